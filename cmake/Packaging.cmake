# Installation layout, man pages, bash completion and the DEB and RPM
# packages (CPack). Included from the top CMakeLists.txt after the tools are
# defined: every entry of SNOOPKIT_TOOLS is installed, documented and
# completed here, so a new tools/<tool>.cpp (with docs/man/<tool>.md) joins
# the packages with no other step.
#
#   /usr/sbin/<prefix><tool>                                   the tools
#   /usr/share/man/man8/<prefix><tool>.8.gz                    one page per tool
#   /usr/share/bash-completion/completions/<prefix><tool>      one file per tool
#   /usr/share/doc/snoopkit/{README.md,*.md,schema/,copyright,changelog.gz}
#
# Man pages and completions are generated at build time by
# packaging/gen_docs.py from the built tool's `--help` (so they cannot drift
# from the options) and the prose in docs/man/<tool>.md.

set(SNOOPKIT_NAME_PREFIX "" CACHE STRING
    "Prefix of the installed command names (e.g. sk- installs /usr/sbin/sk-execsnoop)")
option(SNOOPKIT_MAN_STRICT
       "Fail the build when a tool has no docs/man/<tool>.md or its examples use unknown options" OFF)
set(SNOOPKIT_PACKAGE_MAINTAINER "snoopkit developers <snoopkit@example.org>" CACHE STRING
    "Maintainer field of the DEB and RPM packages: 'Name <address>'")
set(SNOOPKIT_PACKAGE_URL "" CACHE STRING "Home page of the project (DEB Homepage, RPM URL)")
if(NOT SNOOPKIT_NAME_PREFIX MATCHES "^[a-z0-9][a-z0-9.+_-]*$|^$")
  message(FATAL_ERROR "SNOOPKIT_NAME_PREFIX='${SNOOPKIT_NAME_PREFIX}': use lower-case letters, digits, '.', '+', '_', '-'")
endif()

find_package(Python3 REQUIRED COMPONENTS Interpreter)

set(SNOOPKIT_SBIN_DIR "sbin")
set(SNOOPKIT_MAN8_DIR "share/man/man8")
set(SNOOPKIT_COMPLETION_DIR "share/bash-completion/completions")
set(SNOOPKIT_DOC_DIR "share/doc/snoopkit")
# Directories 0755 whatever the umask of whoever builds the package.
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

# --- man pages and bash completion, one of each per tool --------------------

set(gen_dir "${PROJECT_BINARY_DIR}/packaging")
file(MAKE_DIRECTORY "${gen_dir}/man8" "${gen_dir}/completions")
# A new prose file re-runs configure, so its tool switches from the generic page.
file(GLOB SNOOPKIT_MAN_SOURCES CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/docs/man/*.md")
string(REPLACE ";" "," all_tools "${SNOOPKIT_TOOLS}")
set(strict_flag "")
if(SNOOPKIT_MAN_STRICT)
  set(strict_flag "--strict")
endif()

set(missing_prose "")
set(doc_outputs "")
foreach(tool IN LISTS SNOOPKIT_TOOLS)
  set(name "${SNOOPKIT_NAME_PREFIX}${tool}")
  set(prose "${PROJECT_SOURCE_DIR}/docs/man/${tool}.md")
  set(man "${gen_dir}/man8/${name}.8.gz")
  set(comp "${gen_dir}/completions/${name}")
  set(prose_dep "")
  if(EXISTS "${prose}")
    set(prose_dep "${prose}")
  else()
    list(APPEND missing_prose "docs/man/${tool}.md")
  endif()
  add_custom_command(
    OUTPUT "${man}" "${comp}"
    COMMAND "${Python3_EXECUTABLE}" "${PROJECT_SOURCE_DIR}/packaging/gen_docs.py"
            --binary "$<TARGET_FILE:${tool}>" --tool "${tool}" --prefix "${SNOOPKIT_NAME_PREFIX}"
            --version "${PROJECT_VERSION}" --prose "${prose}"
            --common "${PROJECT_SOURCE_DIR}/docs/man/common.md" --all-tools "${all_tools}"
            ${strict_flag} --man-out "${man}" --completion-out "${comp}"
    DEPENDS ${tool} ${prose_dep} "${PROJECT_SOURCE_DIR}/packaging/gen_docs.py"
            "${PROJECT_SOURCE_DIR}/docs/man/common.md"
    COMMENT "man page and bash completion of ${name}"
    VERBATIM)
  list(APPEND doc_outputs "${man}" "${comp}")

  # The tool under its installed name; stripped when the install asks for it
  # (cpack, cmake --install --strip), as install(TARGETS) would be.
  install(PROGRAMS "$<TARGET_FILE:${tool}>" DESTINATION "${SNOOPKIT_SBIN_DIR}" RENAME "${name}")
  install(CODE "
    if(CMAKE_INSTALL_DO_STRIP)
      execute_process(COMMAND \"${CMAKE_STRIP}\" --remove-section=.comment --remove-section=.note
                              \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${SNOOPKIT_SBIN_DIR}/${name}\"
                      COMMAND_ERROR_IS_FATAL ANY)
    endif()")
  install(FILES "${man}" DESTINATION "${SNOOPKIT_MAN8_DIR}")
  install(FILES "${comp}" DESTINATION "${SNOOPKIT_COMPLETION_DIR}")
endforeach()
add_custom_target(snoopkit_docs ALL DEPENDS ${doc_outputs})

if(missing_prose)
  string(REPLACE ";" ", " missing_prose "${missing_prose}")
  if(SNOOPKIT_MAN_STRICT)
    message(FATAL_ERROR "No man page prose for: ${missing_prose}. Write it (copy docs/man/execsnoop.md; "
                        "the format is in docs/man/README.md).")
  endif()
  message(WARNING "No man page prose for: ${missing_prose}: those tools get a generic man page. "
                  "Package builds (scripts/package.sh) refuse this.")
endif()

# --- documentation -------------------------------------------------------------

file(GLOB SNOOPKIT_DOCS CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/docs/*.md")
file(GLOB SNOOPKIT_SCHEMAS CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/docs/schema/*.json")
install(FILES "${PROJECT_SOURCE_DIR}/README.md" ${SNOOPKIT_DOCS}
              "${PROJECT_SOURCE_DIR}/packaging/copyright"
        DESTINATION "${SNOOPKIT_DOC_DIR}")
if(SNOOPKIT_SCHEMAS)
  install(FILES ${SNOOPKIT_SCHEMAS} DESTINATION "${SNOOPKIT_DOC_DIR}/schema")
endif()

# changelog.gz (Debian format, required by Debian policy) and the RPM
# %changelog, both from VERSION, so no second place holds the version.
set(changelog_deb "${gen_dir}/changelog.gz")
set(changelog_rpm "${gen_dir}/changelog.rpm")
add_custom_command(
  OUTPUT "${changelog_deb}" "${changelog_rpm}"
  COMMAND "${Python3_EXECUTABLE}" "${PROJECT_SOURCE_DIR}/packaging/gen_changelog.py"
          --version "${PROJECT_VERSION}" --maintainer "${SNOOPKIT_PACKAGE_MAINTAINER}"
          --deb "${changelog_deb}" --rpm "${changelog_rpm}"
  DEPENDS "${PROJECT_SOURCE_DIR}/VERSION" "${PROJECT_SOURCE_DIR}/packaging/gen_changelog.py"
  COMMENT "changelog ${PROJECT_VERSION}"
  VERBATIM)
add_custom_target(snoopkit_changelog ALL DEPENDS "${changelog_deb}" "${changelog_rpm}")
install(FILES "${changelog_deb}" DESTINATION "${SNOOPKIT_DOC_DIR}")
# lintian overrides, each with its reason (read by lintian on the DEB).
install(FILES "${PROJECT_SOURCE_DIR}/packaging/lintian-overrides"
        DESTINATION "share/lintian/overrides" RENAME "snoopkit")

# --- CPack: DEB and RPM ------------------------------------------------------------

# The tool list, wrapped for the descriptions (rpmlint: lines of at most 79).
set(tool_list "")
set(line "")
foreach(tool IN LISTS SNOOPKIT_TOOLS)
  string(LENGTH "${line} ${tool}," width)
  if(line AND width GREATER 72)
    string(APPEND tool_list "${line}\n")
    set(line "${tool},")
  elseif(line)
    string(APPEND line " ${tool},")
  else()
    set(line "${tool},")
  endif()
endforeach()
string(REGEX REPLACE ",$" "." line "${line}")
string(APPEND tool_list "${line}")
set(CPACK_GENERATOR "DEB;RPM")
set(CPACK_PACKAGE_NAME "snoopkit")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "snoopkit")
set(CPACK_PACKAGE_CONTACT "${SNOOPKIT_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
if(SNOOPKIT_PACKAGE_URL)
  set(CPACK_PACKAGE_HOMEPAGE_URL "${SNOOPKIT_PACKAGE_URL}")
endif()
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Tracing tools built on eBPF, with lossless JSON output")
set(CPACK_PACKAGE_DESCRIPTION
"Small eBPF tracing tools for production hosts, with the options and columns
of their libbpf-tools namesakes. Each can print one JSON object per line
(--json) that is always valid, lossless UTF-8 JSON, counts every lost event,
and delivers output to a pipe within a bounded latency. CO-RE: one build
runs on every kernel with BTF. The tools:
${tool_list}")

# DEB: snoopkit_<version>_<arch>.deb, dependencies from dpkg-shlibdeps.
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
if(SNOOPKIT_NAME_PREFIX STREQUAL "")
  # Debian's libbpf-tools installs the same names in /usr/sbin: replace it
  # openly rather than clash on files.
  set(CPACK_DEBIAN_PACKAGE_CONFLICTS "libbpf-tools")
  set(CPACK_DEBIAN_PACKAGE_REPLACES "libbpf-tools")
endif()

# RPM: snoopkit-<version>.<arch>.rpm, dependencies from rpm's find-requires.
# No Conflicts: Fedora's libbpf-tools installs its tools as /usr/sbin/bpf-<tool>
# and bcc-tools its pages as bcc-<tool>.8, so no Fedora package holds our
# paths; Fedora's guidelines allow Conflicts only for a real file clash, and
# rpm itself refuses (never silently overwrites) any file another package owns.
set(CPACK_RPM_FILE_NAME "snoopkit-${PROJECT_VERSION}.${CMAKE_SYSTEM_PROCESSOR}.rpm")
set(CPACK_RPM_PACKAGE_RELEASE "1")
set(CPACK_RPM_PACKAGE_LICENSE "GPL-2.0-only OR BSD-2-Clause")
set(CPACK_RPM_PACKAGE_GROUP "Applications/System")
set(CPACK_RPM_PACKAGE_SUMMARY "${CPACK_PACKAGE_DESCRIPTION_SUMMARY}")
set(CPACK_RPM_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_PACKAGE_RELOCATABLE OFF)  # no "Prefix:": the paths are the ones documented
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
set(CPACK_RPM_PACKAGE_AUTOPROV OFF)  # executables only: nothing to provide
set(CPACK_RPM_CHANGELOG_FILE "${changelog_rpm}")
set(CPACK_RPM_SPEC_MORE_DEFINE "%define packager ${SNOOPKIT_PACKAGE_MAINTAINER}")
# Directories owned by the filesystem, man-pages and bash-completion packages.
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /usr/sbin /usr/share/man /usr/share/man/man8
    /usr/share/bash-completion /usr/share/bash-completion/completions
    /usr/share/lintian /usr/share/lintian/overrides)
# DEB-only files: the lintian overrides, and the Debian-format changelog (the
# RPM has its %changelog in the header).
set(CPACK_RPM_USER_FILELIST "%exclude /usr/share/lintian/overrides/snoopkit"
                            "%exclude /usr/share/doc/snoopkit/changelog.gz")

set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "__pycache__")
include(CPack)
