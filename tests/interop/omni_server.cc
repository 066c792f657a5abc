// omni_server.cc - Test::Everything (idl/everything.idl) implemented with
// omniORB, for tests/interop/phx_client.c: the same behaviour as
// tests/integration/everything_server.c.
//
//   omni_server [-ORB options...] IORFILE
//
// Writes the object's IOR to IORFILE (through a temporary file and a
// rename, so a reader never sees half of it) and serves until the oneway
// Everything::shutdown or SIGTERM.  Tests pass
// "-ORBendPoint giop:tcp:127.0.0.1:" to serve on loopback.
//
// Every "T op_x(in T a, out T b, inout T c)" returns a copy of a, moves
// the c that came in to b and sets c to a copy of a.

#include <omniORB4/CORBA.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include <unistd.h>

#include "everything-omni.hh"

static CORBA::ORB_var the_orb;
static std::atomic<int> n_calls{0};
static std::atomic<unsigned> n_notes{0};

class EverythingImpl : public POA_Test::Everything
{
    Test::Color left_color_ = Test::red;
    Test::Point origin_ = {0, 0};
    CORBA::Long guarded_ = 1;

  public:
#define SCALAR(name, T)                                                     \
    T name(T a, T &b, T &c) override                                        \
    {                                                                       \
        n_calls++;                                                            \
        b = c;                                                              \
        c = a;                                                              \
        return a;                                                           \
    }
    SCALAR(op_short, CORBA::Short)
    SCALAR(op_ushort, CORBA::UShort)
    SCALAR(op_long, CORBA::Long)
    SCALAR(op_ulong, CORBA::ULong)
    SCALAR(op_longlong, CORBA::LongLong)
    SCALAR(op_ulonglong, CORBA::ULongLong)
    SCALAR(op_float, CORBA::Float)
    SCALAR(op_double, CORBA::Double)
    SCALAR(op_boolean, CORBA::Boolean)
    SCALAR(op_char, CORBA::Char)
    SCALAR(op_octet, CORBA::Octet)
    SCALAR(op_enum, Test::Color)
#undef SCALAR
    // Fixed-size structs and unions: in by reference, out and result by
    // value.
#define FIXED(name, T)                                                      \
    T name(const T &a, T &b, T &c) override                                 \
    {                                                                       \
        n_calls++;                                                          \
        b = c;                                                              \
        c = a;                                                              \
        return a;                                                           \
    }
    FIXED(op_prims, Test::AllPrims)
    FIXED(op_point, Test::Point)
    FIXED(op_byenum, Test::ByEnumAlias)
#undef FIXED

    char *op_string(const char *a, CORBA::String_out b, char *&c) override
    {
        n_calls++;
        b = c;
        c = CORBA::string_dup(a);
        return CORBA::string_dup(a);
    }
    char *op_name(const char *a, Test::Name_out b, char *&c) override
    {
        return op_string(a, b, c);
    }

    // Variable-length values: out and result are new copies.
#define VAR(name, T)                                                        \
    T *name(const T &a, T##_out b, T &c) override                           \
    {                                                                       \
        n_calls++;                                                            \
        b = new T(c);                                                       \
        c = a;                                                              \
        return new T(a);                                                    \
    }
    VAR(op_longs, Test::Longs)
    VAR(op_strings4, Test::Strings4)
    VAR(op_longsseq, Test::LongsSeq)
    VAR(op_colors, Test::Colors)
    VAR(op_points, Test::Points)
    VAR(op_nested, Test::Nested)
    VAR(op_node, Test::Node)
    VAR(op_bylong, Test::ByLong)
    VAR(op_byshort, Test::ByShort)
    VAR(op_byull, Test::ByULongLong)
    VAR(op_bychar, Test::ByChar)
    VAR(op_bybool, Test::ByBool)
#undef VAR

    CORBA::Any *op_any(const CORBA::Any &a, CORBA::Any_OUT_arg b,
                       CORBA::Any &c) override
    {
        n_calls++;
        b = new CORBA::Any(c);
        c = a;
        return new CORBA::Any(a);
    }

    // Fixed-size arrays: out is the caller's storage.
#define FIXARRAY(name, T)                                                   \
    T##_slice *name(const T a, T b, T c) override                           \
    {                                                                       \
        n_calls++;                                                            \
        T##_copy(b, c);                                                     \
        T##_copy(c, a);                                                     \
        return T##_dup(a);                                                  \
    }
    FIXARRAY(op_matrix, Test::Matrix)
    FIXARRAY(op_matrix2, Test::MatrixAlias2)
    FIXARRAY(op_grid, Test::PointGrid)
#undef FIXARRAY

    Test::Names_slice *op_names(const Test::Names a, Test::Names_out b,
                                Test::Names c) override
    {
        n_calls++;
        b = Test::Names_dup(c);
        Test::Names_copy(c, a);
        return Test::Names_dup(a);
    }

    CORBA::TypeCode_ptr op_typecode(CORBA::TypeCode_ptr a,
                                    CORBA::TypeCode_OUT_arg b,
                                    CORBA::TypeCode_ptr &c) override
    {
        n_calls++;
        b = c;
        c = CORBA::TypeCode::_duplicate(a);
        return CORBA::TypeCode::_duplicate(a);
    }

    Test::Base_ptr op_objref(Test::Base_ptr a, Test::Base_out b,
                             Test::Base_ptr &c) override
    {
        n_calls++;
        b = c;
        c = Test::Base::_duplicate(a);
        return Test::Base::_duplicate(a);
    }

    CORBA::Object_ptr op_object(CORBA::Object_ptr a, CORBA::Object_out b,
                                CORBA::Object_ptr &c) override
    {
        n_calls++;
        b = c;
        c = CORBA::Object::_duplicate(a);
        return CORBA::Object::_duplicate(a);
    }

    // s = "<o>/<d>", pts reversed with {o, o} appended, col = o % 3.
    void mixed(CORBA::String_out s, CORBA::Octet o, Test::Points &pts,
               CORBA::Double d, Test::Color &col) override
    {
        char buf[64];
        n_calls++;
        std::snprintf(buf, sizeof buf, "%u/%g", (unsigned)o, d);
        s = CORBA::string_dup(buf);
        CORBA::ULong n = pts.length();
        Test::Points v;
        v.length(n + 1);
        for (CORBA::ULong i = 0; i < n; i++)
            v[i] = pts[n - 1 - i];
        v[n].x = v[n].y = o;
        pts = v;
        col = (Test::Color)(o % 3);
    }

    // Oops {code, "oops <code>", [{code, -code}]}, or Empty when code is 0.
    void fail(CORBA::Long code) override
    {
        n_calls++;
        if (code == 0)
            throw Test::Empty();
        char why[32];
        std::snprintf(why, sizeof why, "oops %d", (int)code);
        Test::Points where;
        where.length(1);
        where[0].x = code;
        where[0].y = -code;
        throw Test::Oops(code, why, where);
    }

    CORBA::Long calls() override { return ++n_calls; }
    CORBA::Long base_op(CORBA::Long x) override
    {
        n_calls++;
        return x + 1;
    }
    Test::Color left_color() override { return left_color_; }
    void left_color(Test::Color v) override { left_color_ = v; }
    char *left_op(const char *s) override
    {
        n_calls++;
        return CORBA::string_dup((std::string("left:") + s).c_str());
    }
    Test::Point right_op(const Test::Point &p) override
    {
        n_calls++;
        Test::Point r;
        r.x = p.y;
        r.y = p.x;
        return r;
    }
    Test::Point origin() override { return origin_; }
    void origin(const Test::Point &v) override { origin_ = v; }
    char *motto() override { return CORBA::string_dup("every type, every way"); }

    // Reading a negative value raises Oops, writing 0 raises Empty, as in
    // everything_server.c.  omniidl 4.2 cannot declare getraises/setraises
    // (tests/interop/omnify.sed), so omniORB sends these user exceptions
    // as CORBA::UNKNOWN (docs/interop.md).
    CORBA::Long guarded() override
    {
        if (guarded_ < 0)
            throw Test::Oops(guarded_, "negative", Test::Points());
        return guarded_;
    }
    void guarded(CORBA::Long v) override
    {
        if (v == 0)
            throw Test::Empty();
        guarded_ = v;
    }

    void note(const char *) override { n_notes++; }
    CORBA::ULong notes() override { return n_notes.load(); }
    void shutdown() override { the_orb->shutdown(false); }
};

// omniORB's ORB::shutdown is not async-signal-safe: leave at once.
static void on_signal(int)
{
    _exit(0);
}

int main(int argc, char **argv)
{
    try {
        the_orb = CORBA::ORB_init(argc, argv);
        if (argc != 2) {
            std::fprintf(stderr,
                         "usage: omni_server [-ORB options] IORFILE\n");
            return 2;
        }
        std::signal(SIGTERM, on_signal);
        std::signal(SIGINT, on_signal);
        CORBA::Object_var o = the_orb->resolve_initial_references("RootPOA");
        PortableServer::POA_var poa = PortableServer::POA::_narrow(o);
        EverythingImpl *impl = new EverythingImpl();
        PortableServer::ObjectId_var id = poa->activate_object(impl);
        CORBA::Object_var ref = poa->id_to_reference(id);
        impl->_remove_ref();
        CORBA::String_var ior = the_orb->object_to_string(ref);
        std::string tmp = std::string(argv[1]) + ".tmp";
        FILE *f = std::fopen(tmp.c_str(), "w");
        if (!f || std::fprintf(f, "%s\n", ior.in()) < 0 || std::fclose(f) ||
            std::rename(tmp.c_str(), argv[1]) != 0) {
            std::perror(argv[1]);
            return 1;
        }
        PortableServer::POAManager_var pm = poa->the_POAManager();
        pm->activate();
        the_orb->run();
        the_orb->destroy();
    } catch (const CORBA::Exception &e) {
        std::fprintf(stderr, "omni_server: exception %s\n", e._name());
        return 1;
    }
    return 0;
}
