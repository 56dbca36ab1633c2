// arcade-ship: started detached by `arcade` to deliver the journal; see ship_run.h.
#include "core/environ.h"
#include "shipper/ship_run.h"

int main() { return arcade::shipper::shipper_main(arcade::Environ::from_process()); }
