// arcade-ship: started detached by `arcade` to deliver the journal; see ship_run.h.
#include "core/environ.h"
#include "core/runtime.h"
#include "http/transport.h"
#include "shipper/ship_run.h"

int main() {
    const auto env = arcade::Environ::from_process();
    const arcade::Runtime runtime = arcade::system_runtime(env, [] {
        return arcade::http::make_curl_transport();
    });
    return arcade::shipper::shipper_main(runtime);
}
