// Human output of sloctl. Every renderer takes the agent's JSON view (the AgentQueries shape; typed replies are
// converted back to it first), so `-o json` and the tables show the same data.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace slo::cli {

enum class Output { table, wide, json };

std::string render_status(const nlohmann::json& status, Output o);
// Default: one row per container with its knobs ("cpu_quota 50000 (was 20000)"); wide: one row per knob with
// owner, reason, uid and cgroups.
std::string render_pods(const nlohmann::json& pods, Output o);
std::string render_explain(const std::string& pod, const nlohmann::json& decisions, Output o);
std::string render_config(const nlohmann::json& config, Output o);
// Controller-shaped documents (pools, rdt, reclaimed): scalars as KEY value lines, arrays of objects as tables;
// default output clips long cells, wide does not.
std::string render_document(const nlohmann::json& doc, Output o);
std::string render_restore(const nlohmann::json& result, Output o);

// Pretty JSON with a trailing newline (-o json).
std::string to_pretty(const nlohmann::json& j);
// 3725.2 → "1h2m"; 42 → "42s"; kubectl's age style.
std::string format_duration(double seconds);
// A JSON scalar as a cell: strings bare, null "-", numbers and booleans as JSON, objects/arrays compact JSON.
std::string cell_text(const nlohmann::json& j);

}  // namespace slo::cli
