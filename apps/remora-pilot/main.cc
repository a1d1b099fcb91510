#include "pilot/pilot_main.h"

int main(int argc, char** argv) {
  return remora::pilot::pilotMain(argc, argv);
}
