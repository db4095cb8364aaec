// sloctl: the command-line client of a running sloagent (gRPC over its Unix socket). kubectl habits: aligned
// tables, -o json / -o wide, exit 0 ok, 1 error, 2 usage; errors are one line on stderr that say what to do.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>

#include "cli/diagnose.h"
#include "cli/render.h"
#include "proto/convert.h"
#include "proto/sloagent.grpc.pb.h"
#include "slo_config.h"

namespace {

namespace v1 = sloagent::v1;
using nlohmann::json;
using slo::cli::Output;

constexpr int kOk = 0, kError = 1, kUsage = 2;
constexpr const char* kDefaultSocket = "/run/sloagent/sloagent.sock";

const char* kHelp =
    "sloctl %s - query and control the local sloagent\n"
    "\n"
    "Usage: sloctl [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  status             agent version, uptime, host capabilities, controllers on/off and why\n"
    "  pods               pods on this node: QoS, cgroups, knob values now vs before the agent\n"
    "  explain NS/POD     every decision the agent made about one pod, with reasons and times\n"
    "  config             effective configuration (after the node-selector merge) and the last reload error\n"
    "  pools              cpuset pools (cpuset controller)\n"
    "  rdt                resctrl classes, masks and occupancy (RDT controller)\n"
    "  reclaimed          reclaimable (batch) resources of the node\n"
    "  restore            put every knob the agent changed back to its original value\n"
    "\n"
    "Options:\n"
    "  --socket PATH      agent socket (default $SLOAGENT_SOCKET or %s)\n"
    "  -o, --output FMT   table (default), wide (more columns, nothing clipped) or json\n"
    "  --timeout SECONDS  give up after this long (default 10; restore 60)\n"
    "  --verbose          show gRPC's own log lines\n"
    "  -h, --help         this text\n"
    "  --version          print the version\n"
    "\n"
    "Exit codes: 0 success, 1 error (agent down, refused, call failed), 2 usage.\n";

struct Options {
  std::string socket;
  Output output = Output::table;
  int timeout_s = 0;  // 0 = per-command default
  bool verbose = false;
  std::vector<std::string> args;
};

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "sloctl: %s (see sloctl --help)\n", msg.c_str());
  return kUsage;
}

// Returns -1 when parsing succeeded, else the exit code to return.
int parse(int argc, char** argv, Options& o) {
  const char* env = std::getenv("SLOAGENT_SOCKET");
  o.socket = env && *env ? env : kDefaultSocket;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const std::string& name, std::string& out) -> bool {
      if (a == name) {
        if (i + 1 >= argc) return false;
        out = argv[++i];
        return true;
      }
      out = a.substr(name.size() + 1);  // --name=value
      return true;
    };
    auto is_opt = [&](const std::string& name) { return a == name || a.rfind(name + "=", 0) == 0; };
    std::string v;
    if (a == "-h" || a == "--help" || a == "help") {
      std::printf(kHelp, SLO_VERSION, kDefaultSocket);
      return kOk;
    } else if (a == "--version" || a == "version") {
      std::printf("sloctl %s\n", SLO_VERSION);
      return kOk;
    } else if (is_opt("--socket")) {
      if (!value("--socket", v) || v.empty()) return usage_error("--socket needs a path");
      o.socket = v;
    } else if (is_opt("--output") || a == "-o" || (a.rfind("-o", 0) == 0 && a.size() > 2 && a[2] != '-')) {
      if (a == "-o") {
        if (i + 1 >= argc) return usage_error("-o needs a format: table, wide or json");
        v = argv[++i];
      } else if (a.rfind("-o", 0) == 0 && a.rfind("--", 0) != 0) {
        v = a.substr(a[2] == '=' ? 3 : 2);  // -ojson, -o=json
      } else if (!value("--output", v)) {
        return usage_error("--output needs a format: table, wide or json");
      }
      if (v == "json")
        o.output = Output::json;
      else if (v == "wide")
        o.output = Output::wide;
      else if (v == "table" || v == "default")
        o.output = Output::table;
      else
        return usage_error("unknown output format '" + v + "': use table, wide or json");
    } else if (is_opt("--timeout")) {
      if (!value("--timeout", v)) return usage_error("--timeout needs a number of seconds");
      char* end = nullptr;
      long t = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || t <= 0 || t > 3600) return usage_error("--timeout must be 1..3600 seconds");
      o.timeout_s = static_cast<int>(t);
    } else if (a == "--verbose" || a == "-v") {
      o.verbose = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return usage_error("unknown option " + a);
    } else {
      o.args.push_back(a);
    }
  }
  return -1;
}

// One line for a failed call; NOT_FOUND and friends carry the agent's own message.
int call_failed(const Options& o, const std::string& what, const grpc::Status& st) {
  std::string msg;
  switch (st.error_code()) {
    case grpc::UNAVAILABLE: {
      auto d = slo::cli::diagnose_socket(o.socket);
      msg = d.problem == slo::cli::SocketProblem::answers ? d.message + " (" + st.error_message() + "): check its log"
                                                          : d.message;
      break;
    }
    case grpc::DEADLINE_EXCEEDED:
      msg = "the agent at " + o.socket + " did not answer " + what +
            " in time: check its log, or retry with a longer --timeout";
      break;
    case grpc::NOT_FOUND: msg = st.error_message() + " (see `sloctl pods`)"; break;
    case grpc::UNIMPLEMENTED: msg = "the agent does not support " + what + ": is it an older version?"; break;
    default: msg = what + " failed: " + st.error_message(); break;
  }
  std::fprintf(stderr, "sloctl: %s\n", msg.c_str());
  return kError;
}

int print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? kOk : kError;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (int rc = parse(argc, argv, o); rc >= 0) return rc;
  if (o.args.empty()) return usage_error("no command given");
  const std::string cmd = o.args[0];
  const size_t want_args = cmd == "explain" ? 2 : 1;
  static const std::vector<std::string> known = {"status", "pods",      "explain", "config",
                                                 "pools",  "rdt",       "reclaimed", "restore"};
  bool is_known = false;
  for (const auto& k : known) is_known = is_known || k == cmd;
  if (!is_known) return usage_error("unknown command '" + cmd + "'");
  if (o.args.size() < want_args) return usage_error("explain needs a pod as NAMESPACE/NAME");
  if (o.args.size() > want_args) return usage_error("unexpected argument '" + o.args[want_args] + "'");
  std::string pod;
  if (cmd == "explain") {
    pod = o.args[1];
    auto slash = pod.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == pod.size() || pod.find('/', slash + 1) != std::string::npos)
      return usage_error("pod must be NAMESPACE/NAME, got '" + pod + "'");
  }

  // gRPC logs connect failures on its own; the one line below says it better.
  if (!o.verbose) gpr_set_log_function([](gpr_log_func_args*) {});
  auto channel = grpc::CreateChannel("unix:" + o.socket, grpc::InsecureChannelCredentials());
  auto stub = v1::SloAgent::NewStub(channel);
  grpc::ClientContext ctx;
  int timeout = o.timeout_s ? o.timeout_s : (cmd == "restore" ? 60 : 10);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout));

  if (cmd == "status") {
    v1::StatusReply r;
    auto st = stub->Status(&ctx, v1::StatusRequest(), &r);
    if (!st.ok()) return call_failed(o, "status", st);
    return print(slo::cli::render_status(slo::api::status_to_json(r), o.output));
  }
  if (cmd == "pods") {
    v1::PodsReply r;
    auto st = stub->Pods(&ctx, v1::PodsRequest(), &r);
    if (!st.ok()) return call_failed(o, "pods", st);
    return print(slo::cli::render_pods(slo::api::pods_to_json(r), o.output));
  }
  v1::JsonReply r;
  grpc::Status st;
  if (cmd == "explain") {
    v1::ExplainRequest req;
    req.set_pod(pod);
    st = stub->Explain(&ctx, req, &r);
  } else if (cmd == "config") {
    st = stub->Config(&ctx, v1::JsonRequest(), &r);
  } else if (cmd == "pools") {
    st = stub->Pools(&ctx, v1::JsonRequest(), &r);
  } else if (cmd == "rdt") {
    st = stub->Rdt(&ctx, v1::JsonRequest(), &r);
  } else if (cmd == "reclaimed") {
    st = stub->Reclaimed(&ctx, v1::JsonRequest(), &r);
  } else {
    st = stub->Restore(&ctx, v1::RestoreRequest(), &r);
  }
  if (!st.ok()) return call_failed(o, cmd, st);
  json doc = slo::api::parse_json_text(r.json());
  if (cmd == "explain") return print(slo::cli::render_explain(pod, doc, o.output));
  if (cmd == "config") return print(slo::cli::render_config(doc, o.output));
  if (cmd == "restore") {
    int rc = print(slo::cli::render_restore(doc, o.output));
    const json& failed = doc.is_object() && doc.contains("failed") ? doc["failed"] : json();
    bool any_failed = failed.is_array() ? !failed.empty() : (failed.is_number() && failed.get<double>() > 0);
    if (any_failed) {
      std::fprintf(stderr, "sloctl: some knobs could not be restored (listed above): see the agent log\n");
      return kError;
    }
    return rc;
  }
  return print(slo::cli::render_document(doc, o.output));
}
