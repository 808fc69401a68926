# cmake/packaging.cmake: CPack .deb packages, one per component:
#   cmeter               the tool (bin/cmeter, profiles)                 component `tool`
#   cmeter-dev           the plugin SDK (headers, CMake package, template) component `dev`
#   cmeter-plugin-cpu    lib/cmeter/plugins/libcmeter-cpu.so              component `plugin_cpu`
#   cmeter-plugin-opencl, cmeter-plugin-cuda, cmeter-plugin-hip, cmeter-plugin-vulkan (when those plugins are built)
# Shared-library dependencies come from dpkg-shlibdeps; every plugin depends on the tool of the same
# version, and the tool recommends the CPU plugin. Included last from the top-level CMakeLists.txt.
set(CPACK_PACKAGE_NAME cmeter)
set(CPACK_PACKAGE_VENDOR "cmeter")
set(CPACK_PACKAGE_CONTACT "cmeter maintainers <cmeter@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Compute metering for CPUs, GPUs and NPUs through one plugin ABI")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)  # fast to build; the packages are small once stripped
set(CPACK_DEBIAN_PACKAGE_SECTION utils)

set(_cmeter_components tool dev)
foreach(_plugin cpu opencl cuda hip vulkan)
  if(TARGET cmeter_${_plugin}_plugin)
    list(APPEND _cmeter_components plugin_${_plugin})
  endif()
endforeach()
set(CPACK_COMPONENTS_ALL ${_cmeter_components})

set(_cmeter_same_tool "cmeter (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_TOOL_PACKAGE_NAME cmeter)
set(CPACK_DEBIAN_TOOL_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_TOOL_PACKAGE_RECOMMENDS "cmeter-plugin-cpu (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_TOOL_DESCRIPTION "cmeter: the command-line tool and its profiles")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME cmeter-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_DEV_PACKAGE_SUGGESTS "cmeter, cmake")
set(CPACK_COMPONENT_DEV_DESCRIPTION "cmeter plugin SDK: the plugin ABI header, C++ helpers, CMake package (find_package(cmeter 1)), plugin template")
foreach(_plugin cpu opencl cuda hip vulkan)
  string(TOUPPER ${_plugin} _upper)
  set(CPACK_DEBIAN_PLUGIN_${_upper}_PACKAGE_NAME cmeter-plugin-${_plugin})
  set(CPACK_DEBIAN_PLUGIN_${_upper}_PACKAGE_DEPENDS "${_cmeter_same_tool}")
  set(CPACK_COMPONENT_PLUGIN_${_upper}_DESCRIPTION "cmeter device plugin: ${_plugin}")
endforeach()
set(CPACK_DEBIAN_PLUGIN_CPU_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PLUGIN_OPENCL_PACKAGE_SHLIBDEPS ON)
# The HIP plugin links libamdhip64 (Debian's libamdhip64-5, or a ROCm/DTK install): dpkg-shlibdeps finds it.
set(CPACK_DEBIAN_PLUGIN_HIP_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PLUGIN_VULKAN_PACKAGE_SHLIBDEPS ON)
# The CUDA plugin loads the driver (libcuda) that the NVIDIA driver installs outside the package system.
set(CPACK_DEBIAN_PLUGIN_CUDA_PACKAGE_SHLIBDEPS OFF)
include(CPack)
