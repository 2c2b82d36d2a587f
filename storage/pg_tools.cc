#include "storage/pg_tools.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace carnet::storage {

Status RunProgram(const std::vector<std::string>& argv) {
  if (argv.empty()) return Internal("RunProgram: no program");
  if (access(argv[0].c_str(), X_OK) != 0)
    return Unavailable(argv[0] + " cannot be run (" + std::strerror(errno) +
                       "): set pg_bin_dir to PostgreSQL's binaries directory");
  char err_path[] = "/tmp/carnet-pgtool-XXXXXX";
  int err_fd = mkstemp(err_path);
  if (err_fd < 0) return Internal(std::string("mkstemp: ") + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) {
    close(err_fd);
    unlink(err_path);
    return Internal(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(err_fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(err_fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::ifstream in(err_path);
  std::stringstream ss;
  ss << in.rdbuf();
  unlink(err_path);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  std::string err = ss.str();
  if (err.size() > 2000) err = "..." + err.substr(err.size() - 2000);
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  std::string name = argv[0].substr(argv[0].find_last_of('/') + 1);
  return Internal(name + " failed (" +
                  (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                     : "signal " + std::to_string(WTERMSIG(status))) +
                  "): " + err);
}

Status DumpDatabase(const std::string& bin_dir, const std::string& conninfo,
                    const std::string& out_file) {
  return RunProgram({bin_dir + "/pg_dump", "--format=custom", "--no-password", "--file=" + out_file,
                     "--dbname=" + conninfo});
}

Status RestoreDatabase(const std::string& bin_dir, const std::string& conninfo,
                       const std::string& dump_file) {
  return RunProgram({bin_dir + "/pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                     "--single-transaction", "--no-password", "--dbname=" + conninfo, dump_file});
}

Result<std::vector<std::string>> UserTables(Connection& conn) {
  auto r = conn.Exec(
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY 1");
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(r->GetString(i, 0));
  return out;
}

}  // namespace carnet::storage
