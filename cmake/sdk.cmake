# cmake/sdk.cmake: installs the plugin SDK (cmeter-dev): the ABI header, the C++ adapter headers
# (plugin_sdk.hpp: ABI plumbing; plugin_adapter.hpp: the entry points around a plugin's hooks; plugin_ops.hpp: the op parameter contracts; plugin_client.hpp: the
# dlopen client for a plugin's own tests and benchmarks) and a CMake package (find_package(cmeter 1) -> cmeter::plugin_sdk). Included from plugins/CMakeLists.txt
# after the cmeter_plugin_sdk target exists. The package version is the ABI version read from the header
# (one source of truth), with SameMajorVersion compatibility.
include(CMakePackageConfigHelpers)

file(STRINGS ${PROJECT_SOURCE_DIR}/plugins/sdk/include/cmeter/plugin_abi.h _cmeter_abi_lines
     REGEX "^#define CMTR_ABI_(MAJOR|MINOR) [0-9]+")
foreach(_line IN LISTS _cmeter_abi_lines)
  if(_line MATCHES "CMTR_ABI_MAJOR ([0-9]+)")
    set(_cmeter_abi_major ${CMAKE_MATCH_1})
  elseif(_line MATCHES "CMTR_ABI_MINOR ([0-9]+)")
    set(_cmeter_abi_minor ${CMAKE_MATCH_1})
  endif()
endforeach()
set(CMETER_ABI_VERSION "${_cmeter_abi_major}.${_cmeter_abi_minor}")

set(CMETER_CMAKE_PACKAGE_DIR ${CMAKE_INSTALL_DATADIR}/cmake/cmeter)
set_target_properties(cmeter_plugin_sdk PROPERTIES EXPORT_NAME plugin_sdk)
install(TARGETS cmeter_plugin_sdk EXPORT cmeterTargets COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/plugins/sdk/include/cmeter/plugin_abi.h
              ${PROJECT_SOURCE_DIR}/plugins/sdk/include/cmeter/plugin_sdk.hpp
              ${PROJECT_SOURCE_DIR}/plugins/sdk/include/cmeter/plugin_adapter.hpp
              ${PROJECT_SOURCE_DIR}/plugins/sdk/include/cmeter/plugin_ops.hpp
              ${PROJECT_SOURCE_DIR}/plugins/sdk/include/cmeter/plugin_client.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cmeter COMPONENT dev)
install(EXPORT cmeterTargets NAMESPACE cmeter:: DESTINATION ${CMETER_CMAKE_PACKAGE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/cmeterConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/cmeterConfig.cmake INSTALL_DESTINATION ${CMETER_CMAKE_PACKAGE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/cmeterConfigVersion.cmake
  VERSION ${CMETER_ABI_VERSION} COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cmeterConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/cmeterConfigVersion.cmake
        DESTINATION ${CMETER_CMAKE_PACKAGE_DIR} COMPONENT dev)
# The template and the guide ship with the SDK as a starting point.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/plugins/template/ DESTINATION ${CMAKE_INSTALL_DATADIR}/cmeter/plugin-template
        COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/docs/adapting-a-device.md ${PROJECT_SOURCE_DIR}/docs/abi-keys.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT dev)
