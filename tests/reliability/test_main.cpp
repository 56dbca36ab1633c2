#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "reliability.h"

namespace {

// Every run ends in the table of figures (one row per case that ran).
struct SummaryAtEnd : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    void testRunEnded(Catch::TestRunStats const&) override { arcade::reliability::print_summary(); }
};

}  // namespace

CATCH_REGISTER_LISTENER(SummaryAtEnd)
