// remora-app: the lab's demo service. See src/lab/demo_app.h and docs/lab.md.
#include "lab/demo_app.h"

int main(int argc, char** argv) {
  return remora::lab::runDemoApp(argc, argv);
}
