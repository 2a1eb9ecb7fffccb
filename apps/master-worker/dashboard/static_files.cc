#include "apps/master-worker/dashboard/static_files.h"

#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

namespace corral::mw {

std::string content_type_for(const std::filesystem::path& file) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
      {".woff2", "font/woff2"},
  };
  auto it = kTypes.find(file.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

std::filesystem::path find_web_dir(const std::string& flag, const char* argv0) {
  namespace fs = std::filesystem;
  if (!flag.empty()) return flag;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec && argv0) exe = fs::absolute(argv0, ec);
  if (!exe.empty()) {
    fs::path beside = exe.parent_path() / ".." / ".." / "web";
    if (fs::is_regular_file(beside / "index.html", ec)) return fs::weakly_canonical(beside, ec);
  }
#ifdef CORRAL_MW_WEB_DIR
  return CORRAL_MW_WEB_DIR;
#else
  return "web";
#endif
}

std::optional<StaticFile> StaticFiles::find(const std::string& url_path) const {
  namespace fs = std::filesystem;
  std::string relative = url_path;
  if (auto q = relative.find_first_of("?#"); q != std::string::npos) relative.resize(q);
  while (!relative.empty() && relative.front() == '/') relative.erase(0, 1);
  if (relative.empty() || relative.back() == '/') relative += "index.html";
  // No "..", no NUL: the file must be inside the directory (checked again after resolving).
  if (relative.find('\0') != std::string::npos) return std::nullopt;
  for (const auto& part : fs::path(relative))
    if (part == "..") return std::nullopt;
  std::error_code ec;
  fs::path root = fs::weakly_canonical(dir_, ec);
  fs::path file = fs::weakly_canonical(root / relative, ec);
  if (ec || !fs::is_regular_file(file, ec)) return std::nullopt;
  auto [end, unused] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  if (end != root.end()) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream body;
  body << in.rdbuf();
  return StaticFile{content_type_for(file), body.str()};
}

}  // namespace corral::mw
