// A small program for the live recorder tests: starts N threads (default 3)
// that each live ~50 ms, joins them, and exits 0. Its thread forks and exits
// must appear in the trace under its pid.
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 3;
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([] { std::this_thread::sleep_for(std::chrono::milliseconds(50)); });
  }
  for (auto& thread : threads) thread.join();
  // Linger so the recorder can read our argv even on a loaded machine.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return 0;
}
