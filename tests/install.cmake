# install.cmake: the installed binary works on its own. tests/install_test.sh
# runs `cmake --install` of this build into a temporary DESTDIR, moves the
# prefix, and runs, reports and checks from it with the source tree out of
# reach. It installs the binary ctest has just built, so it runs after the
# build like every other test.
add_test(NAME install COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/install_test.sh ${CMAKE_COMMAND}
  ${CMAKE_BINARY_DIR})
set_tests_properties(install PROPERTIES TIMEOUT 300 LABELS install)
