// client_test's main: gtest with the 3-server ensemble of client_env.h.
#include "tests/client/client_env.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(corral::client::test::make_ensemble_environment());
  return RUN_ALL_TESTS();
}
