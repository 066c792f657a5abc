# omnify.sed - idl/everything.idl as omniidl 4.2 accepts it (Makefile.am,
# docs/interop.md).  Nothing here changes what travels on the wire:
#  - omniidl rejects the constants -2147483647 - 1 and
#    -9223372036854775807 - 1 ("Value too large"), and the C++ names
#    LONG_MIN, ULONG_MAX, LLONG_MIN, ULLONG_MAX clash with <climits>
#    macros: the constants get a trailing "_" (constants never travel);
#  - TypeCode is CORBA::TypeCode for omniidl (phx-idl has it built in);
#  - omniidl cannot parse getraises/setraises: "guarded" becomes a plain
#    attribute (omni_client reaches its exceptions through the DII).
s/-2147483647 - 1;/-2147483647;/
s/-9223372036854775807 - 1;/-9223372036854775807;/
s/\(const [a-z ]*\)\b\(SHORT_MIN\|USHORT_MAX\|LONG_MIN\|ULONG_MAX\|LLONG_MIN\|ULLONG_MAX\) =/\1\2_ =/
s/\bTypeCode\b/CORBA::TypeCode/g
s/attribute long guarded getraises (Oops) setraises (Empty);/attribute long guarded;/
