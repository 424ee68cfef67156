// libsystemc's own main() calls sc_main; bsnpu has its own main(), so this only satisfies the
// shared library's reference and is never called.
#include <systemc>

int sc_main(int, char**) { return 2; }
