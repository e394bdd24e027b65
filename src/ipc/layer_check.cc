// The program each layer is linked whole into (src/ipc/CMakeLists.txt): it runs
// nothing; that it links at all is the check.
int main() { return 0; }
