// remora-init: the pod's traffic-capture rules. See docs/init.md.
#include "init/cli.h"

int main(int argc, char** argv) { return remora::init::runInit(argc, argv); }
