#include "tests/e2e/quorum_proxies.h"

#include <cstdint>
#include <fstream>
#include <map>
#include <regex>
#include <string>

namespace corral::e2e {

QuorumProxies::QuorumProxies(Ensemble& e) {
  std::map<int, uint16_t> quorum_port;  // by server id
  std::regex line(R"(^server\.(\d+)=127\.0\.0\.1:(\d+):(.*)$)");
  std::vector<std::vector<std::string>> cfgs;
  for (int i = 0; i < e.size(); ++i) {
    std::ifstream in(e.member_dir(i) / "zoo.cfg");
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) {
      std::smatch m;
      if (std::regex_match(l, m, line)) quorum_port[std::stoi(m[1])] = std::stoi(m[2]);
      lines.push_back(l);
    }
    cfgs.push_back(lines);
  }
  for (int i = 0; i < e.size(); ++i) {
    std::ofstream out(e.member_dir(i) / "zoo.cfg");
    for (const std::string& l : cfgs[static_cast<size_t>(i)]) {
      std::smatch m;
      int j = std::regex_match(l, m, line) ? std::stoi(m[1]) - 1 : i;
      if (j == i) {
        out << l << "\n";
        continue;
      }
      uint16_t port = pick_listen_port();
      auto p = std::make_unique<TcpProxy>(port, quorum_port[j + 1]);
      if (!p->ok()) return;
      links_.push_back({i, j, std::move(p)});
      out << "server." << j + 1 << "=127.0.0.1:" << port << ":" << m[3] << "\n";
    }
  }
  ok_ = links_.size() == static_cast<size_t>(e.size() * (e.size() - 1));
}

void QuorumProxies::hold_into(int to, bool hold) {
  for (auto& l : links_) {
    if (l.to == to) l.proxy->hold_forward(hold);
    if (l.from == to) l.proxy->hold_back(hold);
  }
}

void QuorumProxies::limit_rate_of(int member, size_t bytes_per_second) {
  for (auto& l : links_)
    if (l.to == member || l.from == member) l.proxy->limit_rate(bytes_per_second);
}

}  // namespace corral::e2e
