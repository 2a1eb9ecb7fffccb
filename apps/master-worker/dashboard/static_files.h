// web/'s files served at `/` (GET and HEAD only), with content types by extension; nothing
// outside the directory is ever served.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace corral::mw {

/// The Content-Type for a file name ("app.js" -> "text/javascript; charset=utf-8").
std::string content_type_for(const std::filesystem::path& file);

/// The web directory to serve: `flag` if given; else web/ next to the build
/// (<executable dir>/../../web); else the source tree's web/ baked in at build time.
std::filesystem::path find_web_dir(const std::string& flag, const char* argv0);

/// A file to send.
struct StaticFile {
  std::string content_type;
  std::string body;
};

/// The files of one directory.
class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path dir) : dir_(std::move(dir)) {}

  /// The file for a URL path ("/" -> index.html); empty if there is none, or the path
  /// leaves the directory.
  std::optional<StaticFile> find(const std::string& url_path) const;
  /// The directory served.
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace corral::mw
