#include "agent/decide/rdt/inspect.h"

#include <fstream>
#include <sstream>

#include "agent/decide/rdt/planner.h"
#include "rdt/root.h"
#include "rdt/writer.h"

namespace slo::agent::rdtctl {

nlohmann::json info_to_json(const rdt::Info& info) {
  nlohmann::json j;
  j["vendor"] = std::string(rdt::to_string(info.vendor));
  j["usable_closids"] = info.usable_closids;
  j["cdp"] = {{"l3", info.l3_cdp}, {"l2", info.l2_cdp}};
  nlohmann::json res = nlohmann::json::object();
  for (const auto& c : info.caches) {
    res[c.name] = {{"cbm_mask", rdt::format_hex_mask(c.rules.cbm_mask)},
                   {"cbm_bits", rdt::popcount(c.rules.cbm_mask)},
                   {"min_cbm_bits", c.rules.min_cbm_bits},
                   {"shareable_bits", rdt::format_hex_mask(c.shareable_bits)},
                   {"sparse_masks", c.rules.sparse_masks},
                   {"num_closids", c.num_closids},
                   {"domains", c.domains}};
  }
  if (info.mb)
    res["MB"] = {{"bandwidth_gran", info.mb->bandwidth_gran},
                 {"min_bandwidth", info.mb->min_bandwidth},
                 {"delay_linear", info.mb->delay_linear},
                 {"num_closids", info.mb->num_closids},
                 {"unit", std::string(rdt::to_string(info.mb->unit))},
                 {"unit_source", info.mb->unit_source},
                 {"thread_throttle_mode", info.mb->thread_throttle_mode},
                 {"domains", info.mb->domains}};
  j["resources"] = res;
  if (info.l3_mon)
    j["monitoring"] = {{"num_rmids", info.l3_mon->num_rmids},
                       {"features", info.l3_mon->features},
                       {"max_threshold_occupancy", info.l3_mon->max_threshold_occupancy}};
  else
    j["monitoring"] = nullptr;
  return j;
}

InspectResult inspect_rdt(const InspectOptions& opts) {
  InspectResult out;
  RdtPolicy policy;
  std::string policy_source = "defaults";
  if (!opts.config_file.empty()) {
    std::ifstream f(opts.config_file);
    if (!f) {
      out.error = "cannot read config file " + opts.config_file;
      return out;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    auto doc = nlohmann::json::parse(ss.str(), nullptr, false);
    if (doc.is_discarded()) {
      out.error = opts.config_file + ": not valid JSON";
      return out;
    }
    auto parsed = parse_policy_document(doc);
    if (!parsed.policy) {
      out.error = opts.config_file + ": " + parsed.error;
      return out;
    }
    policy = *parsed.policy;
    policy_source = opts.config_file;
  }

  auto root = rdt::open_resctrl_root(opts.resctrl_root, rdt::RootCheck::trust_contents);
  if (!root.ok()) {
    out.report = {{"supported", false}, {"reason", root.status.detail.empty() ? root.status.describe()
                                                                             : root.status.detail}};
    return out;
  }
  rdt::ReadInfoOptions ro;
  ro.proc_root = opts.proc_root;
  ro.resctrl_path = opts.resctrl_root;
  auto info = rdt::read_info(root.value.dir, ro);
  if (!info.ok()) {
    out.report = {{"supported", false}, {"reason", "cannot read resctrl info: " + info.status.describe()}};
    return out;
  }
  if (!info.value.has_allocation()) {
    out.report = {{"supported", false},
                  {"reason", "resctrl at " + opts.resctrl_root + " has no allocation resource (L3, L2 or MB)"},
                  {"capabilities", info_to_json(info.value)}};
    return out;
  }
  auto plan = make_plan(info.value, policy, {}, rdt::kGroupPrefix);
  nlohmann::json r;
  r["supported"] = true;
  r["resctrl_root"] = opts.resctrl_root;
  r["detected_by"] = root.value.kernel_mount ? "fs-magic" : "contents (not a resctrl mount: a fake tree)";
  r["capabilities"] = info_to_json(info.value);
  r["policy_source"] = policy_source;
  r["policy"] = to_json(policy);
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : plan.groups) {
    nlohmann::json lines = nlohmann::json::array();
    std::string text = rdt::render_schemata(g.schemata);
    size_t p = 0;
    while (p < text.size()) {
      size_t nl = text.find('\n', p);
      lines.push_back(text.substr(p, nl - p));
      p = nl + 1;
    }
    groups.push_back({{"class", std::string(to_string(g.cls))},
                      {"group", g.name},
                      {"enabled", g.enabled},
                      {"catRangeStartPercent", g.alloc.cat_start_percent},
                      {"catRangeEndPercent", g.alloc.cat_end_percent},
                      {"mbaPercent", g.alloc.mba_percent},
                      {"schemata", lines},
                      {"notes", g.notes}});
  }
  r["groups"] = groups;
  r["errors"] = plan.errors;
  r["closids_needed"] = plan.closids_needed;
  r["closids_fit"] = plan.closids_needed <= info.value.usable_closids;
  out.report = std::move(r);
  return out;
}

}  // namespace slo::agent::rdtctl
