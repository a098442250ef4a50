# Run by `cmake --install` (see CMakeLists.txt): installs what is generated
# from the binary itself, so it matches the binary being installed, and the
# systemd files with their paths rewritten for the install prefix.
#   CC_BIN      the built commandcenter (set by the install(CODE) before this)
#   CC_SRC      the source tree
#   CC_WORK     a scratch directory in the build tree
# Layout for PREFIX (GNU conventions; PREFIX=/usr puts configuration in /etc):
#   PREFIX/share/man/man1/commandcenter.1, commandcenter-COMMAND.1
#   PREFIX/share/doc/commandcenter/commandcenter.example.yml
#   SYSCONFDIR/commandcenter/commandcenter.yml   (only if absent: never
#                                                 overwrites an operator's file)
#   PREFIX/lib/systemd/system/commandcenter.service, commandcenter-backup.service
#                              and commandcenter-backup.timer
#   PREFIX/lib/sysusers.d/commandcenter.conf
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(sysconfdir "/etc")
else()
  set(sysconfdir "${prefix}/etc")
endif()

file(REMOVE_RECURSE "${CC_WORK}")
file(MAKE_DIRECTORY "${CC_WORK}/man")
execute_process(COMMAND "${CC_BIN}" man-pages "${CC_WORK}/man" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "commandcenter man-pages failed (${rc})")
endif()
file(GLOB pages "${CC_WORK}/man/*.1")
file(INSTALL ${pages} DESTINATION "${prefix}/share/man/man1")

execute_process(COMMAND "${CC_BIN}" config-example
                OUTPUT_FILE "${CC_WORK}/commandcenter.example.yml" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "commandcenter config-example failed (${rc})")
endif()
file(INSTALL "${CC_WORK}/commandcenter.example.yml"
     DESTINATION "${prefix}/share/doc/commandcenter")
if(NOT EXISTS "$ENV{DESTDIR}${sysconfdir}/commandcenter/commandcenter.yml")
  file(MAKE_DIRECTORY "${CC_WORK}/etc")
  configure_file("${CC_WORK}/commandcenter.example.yml" "${CC_WORK}/etc/commandcenter.yml" COPYONLY)
  file(INSTALL "${CC_WORK}/etc/commandcenter.yml" DESTINATION "${sysconfdir}/commandcenter"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
else()
  message(STATUS "Keeping: $ENV{DESTDIR}${sysconfdir}/commandcenter/commandcenter.yml")
endif()

foreach(name commandcenter.service commandcenter-backup.service commandcenter-backup.timer)
  file(READ "${CC_SRC}/deploy/systemd/${name}" unit)
  string(REPLACE "/usr/local/bin/commandcenter" "${prefix}/bin/commandcenter" unit "${unit}")
  string(REPLACE "/usr/local/etc/commandcenter" "${sysconfdir}/commandcenter" unit "${unit}")
  file(WRITE "${CC_WORK}/systemd/${name}" "${unit}")
  file(INSTALL "${CC_WORK}/systemd/${name}" DESTINATION "${prefix}/lib/systemd/system")
endforeach()
file(MAKE_DIRECTORY "${CC_WORK}/sysusers")
configure_file("${CC_SRC}/deploy/systemd/commandcenter.sysusers"
               "${CC_WORK}/sysusers/commandcenter.conf" COPYONLY)
file(INSTALL "${CC_WORK}/sysusers/commandcenter.conf" DESTINATION "${prefix}/lib/sysusers.d")
