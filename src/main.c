#include <stdio.h>
int main(void) { fprintf(stderr, "warren: not built yet\n"); return 1; }
