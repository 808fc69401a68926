# cmeter_exclude_benches(DIR): takes every benchmark program (a target named *_bench) defined in DIR or
# below out of the default build (CMETER_BUILD_BENCHES=OFF); `cmake --build <dir> --target <name>` still
# builds one. Done here, by name, so the plugins' CMakeLists need no switch of their own.
function(cmeter_exclude_benches dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    if(target MATCHES "_bench$")
      set_target_properties(${target} PROPERTIES EXCLUDE_FROM_ALL ON)
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    cmeter_exclude_benches(${subdir})
  endforeach()
endfunction()
