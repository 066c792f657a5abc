# phx-idl.mk - automake rules that turn IDL files into C with phx-idl.
#
# For every FOO.idl, phx-idl writes four files into one directory:
#   FOO.h          types, TypeCodes, operation descriptions, stub
#                  prototypes, servant types
#   FOO-common.c   TypeCodes and operation descriptions (clients and
#                  servers both need it)
#   FOO-stubs.c    client stubs
#   FOO-skels.c    server skeletons
# A client links FOO-common.c and FOO-stubs.c, a server FOO-common.c and
# FOO-skels.c (and FOO-stubs.c if it also calls out).  See
# docs/idl-c-mapping.md for the C mapping itself.
#
# Use from a Makefile.am:
#
#   include $(srcdir)/phx-idl.mk          # a copy of this file
#   PHX_IDL = @PHX_IDL@                   # see Variables below
#   PHX_IDL_FLAGS = -I$(srcdir)           # where included IDL files are
#   PHX_IDL_DEP =
#
#   BUILT_SOURCES = foo.h
#   CLEANFILES = foo.h foo-common.c foo-stubs.c foo-skels.c
#   nodist_server_SOURCES = foo.h foo-common.c foo-skels.c
#   nodist_client_SOURCES = foo.h foo-common.c foo-stubs.c
#
#   foo.h: foo.idl $(PHX_IDL_DEP)
#   	$(phx_idl_run)
#   foo-common.c foo-stubs.c foo-skels.c: foo.h
#   	$(phx_idl_more)
#
# The generated files are build products (nodist_, CLEANFILES): they are
# written into the build tree, so VPATH builds and "make distcheck" work,
# and they are made before anything compiles (BUILT_SOURCES).  The output
# directory is the target's own directory ($(@D)), so "gen/foo.h:
# foo.idl" puts the four files in gen/.
#
# One rule runs phx-idl per IDL file; the three .c files hang off the
# header, and remake it if one of them has gone missing.  With GNU make
# and AUTOMAKE_OPTIONS = -Wno-portability, a single pattern rule does the
# same for every IDL file of a directory:
#
#   %.h %-common.c %-stubs.c %-skels.c: %.idl $(PHX_IDL_DEP)
#   	$(phx_idl_run)
#
# Variables the including Makefile.am defines (each may be empty but
# not undefined):
#   PHX_IDL        the compiler (e.g. phx-idl from PATH, found by
#                  configure: AC_PATH_PROG([PHX_IDL], [phx-idl]))
#   PHX_IDL_FLAGS  -I DIR, -D NAME=VALUE ... for its preprocessor
#   PHX_IDL_DEP    what generated files also depend on (a phx-idl built
#                  in the same tree, so that a new compiler regenerates
#                  them)

phx_idl_run = $(AM_V_GEN)$(MKDIR_P) $(@D) && \
	$(PHX_IDL) $(PHX_IDL_FLAGS) -o $(@D) $<

phx_idl_more = @if test -f $@; then :; else \
	rm -f $<; $(MAKE) $(AM_MAKEFLAGS) $<; fi
