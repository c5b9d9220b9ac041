# Writes OUT from IN with @SECURECHAT_VERSION@ and @SECURECHAT_COMMIT@ filled in; run at every
# build (src/CMakeLists.txt), so the commit a program reports is the one it was built from.
# configure_file leaves OUT untouched when nothing changed, so nothing is rebuilt then.
# Without git (a minimal system) or outside a checkout (a source tarball) the commit is said to
# be unknown, and why; no parenthesis inside it, since `--version` prints it inside one.
find_program(GIT_PROGRAM git)
if(NOT GIT_PROGRAM)
  set(SECURECHAT_COMMIT "unknown, git is not installed")
else()
  execute_process(
    COMMAND "${GIT_PROGRAM}" -C "${SOURCE_DIR}" describe --always --dirty --abbrev=12
    OUTPUT_VARIABLE SECURECHAT_COMMIT
    OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_QUIET
    RESULT_VARIABLE git_result)
  if(NOT git_result EQUAL 0 OR SECURECHAT_COMMIT STREQUAL "")
    set(SECURECHAT_COMMIT "unknown, not built from a git checkout")
  endif()
endif()
set(SECURECHAT_VERSION "${VERSION}")
configure_file("${IN}" "${OUT}" @ONLY)
