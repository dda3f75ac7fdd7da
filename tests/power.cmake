# Power-source test builds: the fake NVML library (tests/fake_nvml.c built
# as a SHARED libnvidia-ml.so), whose path test_power_nvml gets through
# JB_FAKE_NVML and loads through the production dlopen path.
add_library(fake_nvml SHARED ${CMAKE_CURRENT_SOURCE_DIR}/fake_nvml.c)
set_target_properties(fake_nvml PROPERTIES OUTPUT_NAME nvidia-ml-fake C_VISIBILITY_PRESET hidden)
target_link_libraries(fake_nvml PRIVATE m)
if(TARGET test_power_nvml)
  add_dependencies(test_power_nvml fake_nvml)
  set_property(TEST test_power_nvml APPEND PROPERTY ENVIRONMENT
    "JB_FAKE_NVML=$<TARGET_FILE:fake_nvml>")
endif()
