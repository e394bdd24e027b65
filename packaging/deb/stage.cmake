# CPack runs this (CPACK_PRE_BUILD_SCRIPTS) on the tree it staged from `cmake
# --install`, before it makes the .deb: what Debian policy asks of a package and a
# plain install does not need (lintian: nothing to report, package.bats). The man
# page is compressed (gzip -9n: no name, no time stamp, so the package is
# reproducible); the copyright file and the changelog go to /usr/share/doc/ipcat/;
# the binary loses the sections strip leaves (.comment, .note), as dh_strip does;
# a static build gets its lintian overrides (packaging/deb/lintian-overrides).
set(share "${CPACK_TEMPORARY_INSTALL_DIRECTORY}${CPACK_PACKAGING_INSTALL_PREFIX}/share")
set(doc_dir "${share}/doc/ipcat")
file(GLOB man_pages "${share}/man/man1/*.1")
if(NOT man_pages)
  message(FATAL_ERROR "stage.cmake: no man page under ${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
endif()
foreach(page ${man_pages})
  execute_process(COMMAND gzip -9nf "${page}" COMMAND_ERROR_IS_FATAL ANY)
endforeach()
file(MAKE_DIRECTORY "${doc_dir}")
foreach(f copyright changelog)
  file(COPY_FILE "${CPACK_IPCAT_DEB_DIR}/${f}" "${doc_dir}/${f}")
  file(CHMOD "${doc_dir}/${f}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endforeach()
execute_process(COMMAND gzip -9nf "${doc_dir}/changelog" COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${CPACK_IPCAT_STRIP}" --remove-section=.comment --remove-section=.note
                "${CPACK_TEMPORARY_INSTALL_DIRECTORY}${CPACK_PACKAGING_INSTALL_PREFIX}/bin/ipcat"
                COMMAND_ERROR_IS_FATAL ANY)
if(CPACK_IPCAT_STATIC)
  set(overrides "${share}/lintian/overrides")
  file(MAKE_DIRECTORY "${overrides}")
  file(COPY_FILE "${CPACK_IPCAT_DEB_DIR}/lintian-overrides" "${overrides}/ipcat")
  file(CHMOD "${overrides}/ipcat" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
