# The fake NVML library (tests/fake_nvml.c built as a SHARED
# libnvidia-ml.so): the tests that need it get its path through
# JB_FAKE_NVML and load it through the production dlopen path.
add_library(fake_nvml SHARED ${CMAKE_CURRENT_SOURCE_DIR}/fake_nvml.c)
set_target_properties(fake_nvml PROPERTIES OUTPUT_NAME nvidia-ml-fake C_VISIBILITY_PRESET hidden)
target_link_libraries(fake_nvml PRIVATE m)
foreach(t test_power_nvml test_sweep test_cli_sweep)
  if(TARGET ${t})
    add_dependencies(${t} fake_nvml)
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "JB_FAKE_NVML=$<TARGET_FILE:fake_nvml>")
  endif()
endforeach()
