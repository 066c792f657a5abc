# phx_flags.m4 - compiler and linker flag probes for Phalanx.
#
# Self-contained so that building from a clean clone needs only autoconf,
# automake, libtool and pkg-config (no autoconf-archive).

# PHX_CHECK_CFLAG(FLAG, [ACTION-IF-OK], [ACTION-IF-NOT])
# ------------------------------------------------------
# Compile an empty program with "$CFLAGS -Werror FLAG".  -Werror makes
# compilers that merely warn about an unknown option report failure.
AC_DEFUN([PHX_CHECK_CFLAG],
[AS_VAR_PUSHDEF([phx_cv_cflag], [phx_cv_cflag_$1])dnl
AC_CACHE_CHECK([whether $CC accepts $1], [phx_cv_cflag],
  [phx_save_CFLAGS=$CFLAGS
   CFLAGS="$CFLAGS -Werror $1"
   AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
     [AS_VAR_SET([phx_cv_cflag], [yes])],
     [AS_VAR_SET([phx_cv_cflag], [no])])
   CFLAGS=$phx_save_CFLAGS])
AS_VAR_IF([phx_cv_cflag], [yes], [$2], [$3])
AS_VAR_POPDEF([phx_cv_cflag])dnl
])

# PHX_APPEND_CFLAGS(VARIABLE, FLAG...)
# ------------------------------------
# Append to VARIABLE each FLAG the compiler accepts; skip the others.
AC_DEFUN([PHX_APPEND_CFLAGS],
[for phx_flag in $2; do
  PHX_CHECK_CFLAG([$phx_flag], [$1="${$1:+$$1 }$phx_flag"])
done
])

# PHX_CHECK_LINK_FLAGS(FLAGS, [ACTION-IF-OK], [ACTION-IF-NOT])
# ------------------------------------------------------------
# Compile and link a program with FLAGS in both CFLAGS and LDFLAGS.
AC_DEFUN([PHX_CHECK_LINK_FLAGS],
[AC_MSG_CHECKING([whether $CC can compile and link with $1])
phx_save_CFLAGS=$CFLAGS
phx_save_LDFLAGS=$LDFLAGS
CFLAGS="$CFLAGS $1"
LDFLAGS="$LDFLAGS $1"
AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
  [phx_link_ok=yes], [phx_link_ok=no])
CFLAGS=$phx_save_CFLAGS
LDFLAGS=$phx_save_LDFLAGS
AC_MSG_RESULT([$phx_link_ok])
AS_IF([test "x$phx_link_ok" = xyes], [$2], [$3])
])
