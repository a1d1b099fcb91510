// remora-pilot's command line (apps/remora-pilot/main.cc only calls this):
//   remora-pilot --config-dir DIR [--mesh-config FILE] [--grpc-addr A] [--http-addr A] ...
//       serve: ADS on --grpc-addr, debug/metrics/config API on --http-addr
//   remora-pilot translate --config-dir DIR --proxy POD.NS [--type lds|rds|cds|eds]
//   remora-pilot configz --config-dir DIR
// Runs on the main thread; returns the exit code.
#pragma once

namespace remora::pilot {

int pilotMain(int argc, char** argv);

}  // namespace remora::pilot
