#include <stdio.h>
int main(void) { puts("commandcenter " CC_VERSION); return 0; }
