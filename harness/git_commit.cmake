# git_commit.cmake: writes JB_OUT, a header defining JB_GIT_COMMIT as the
# source tree's commit (12 hex digits), "-dirty" appended when tracked files
# differ from it, or "unknown" outside git. Run with cmake -P on every build
# (the jb_git_commit target); the file is rewritten only when its text
# changes, so that an unchanged commit recompiles nothing.
#   cmake -DJB_SOURCE_DIR=SRC -DJB_OUT=FILE -P git_commit.cmake
find_program(JB_GIT git)
set(commit "")
set(dirty "")
if(JB_GIT)
  execute_process(COMMAND ${JB_GIT} rev-parse --short=12 HEAD
    WORKING_DIRECTORY ${JB_SOURCE_DIR} OUTPUT_VARIABLE commit
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  # --no-optional-locks: status would otherwise refresh and rewrite the
  # index on every build, racing with whatever git command the user runs.
  execute_process(COMMAND ${JB_GIT} --no-optional-locks status --porcelain --untracked-files=no
    WORKING_DIRECTORY ${JB_SOURCE_DIR} OUTPUT_VARIABLE dirty
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(NOT commit)
  set(commit "unknown")
elseif(dirty)
  string(APPEND commit "-dirty")
endif()
set(text "/* Generated at build time by harness/git_commit.cmake: the commit this
 * binary was built from, for --version and the provenance record. */
#ifndef JB_GIT_COMMIT_H
#define JB_GIT_COMMIT_H
#define JB_GIT_COMMIT \"${commit}\"
#endif
")
set(old "")
if(EXISTS ${JB_OUT})
  file(READ ${JB_OUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${JB_OUT} "${text}")
endif()
