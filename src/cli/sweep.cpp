// bsnpu sweep and bsnpu merge: design-space sweeps (docs/sweeps.md). The driver expands the sweep
// file, validates every point's config, computes the accuracy of each (model, k) once with the
// bit-exact engine (cached in DIR/accuracy/), and runs each hardware point's timing in its own
// `bsnpu run --timing-only` process (SystemC elaborates once per process), -j at a time. Every
// finished point is appended to DIR/points.jsonl; a sweep started again skips them. The outputs
// are rebuilt from the records when every point of the shard is done.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "arch/area.h"
#include "arch/config.h"
#include "arch/report.h"
#include "arch/schedule.h"
#include "arch/workload.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/output.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/files.h"
#include "core/json_fields.h"
#include "core/paths.h"
#include "core/precision.h"
#include "core/sha256.h"
#include "sweep/journal.h"

namespace bsnpu::cli {
namespace {

namespace po = boost::program_options;
using sweep::Json;
using sweep::Record;

constexpr const char* kStateFile = "sweep.json";
constexpr const char* kSpaceCopy = "space.json";
constexpr const char* kJournalFile = "points.jsonl";

std::string join(const std::string& dir, const std::string& name) { return dir + "/" + name; }

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// Makes `dir` (its parent must exist) or accepts an existing directory.
void make_directory(const std::string& option, const std::string& dir) {
  struct stat info {};
  if (::stat(dir.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode)) throw Error(option + ": " + dir + ": is not a directory");
    return;
  }
  if (::mkdir(dir.c_str(), 0777) != 0) {
    throw Error(option + ": " + dir + ": cannot create: " + std::strerror(errno));
  }
}

bool empty_directory(const std::string& dir) {
  std::error_code error;
  return std::filesystem::is_empty(dir, error) && !error;
}

std::string point_label(const sweep::Point& point) {
  return "point " + std::to_string(point.index) + " " + point.axes.dump();
}

// The four outputs, each written whole to a temporary file and renamed only when all are.
void write_outputs(const std::string& dir, const sweep::Space& space,
                   const std::vector<Record>& records) {
  const sweep::SweepOutputs built = sweep::build_outputs(space, records);
  auto json_text = [](const Json& document) {
    return document.dump(1, ' ', false, Json::error_handler_t::replace) + "\n";
  };
  const std::pair<const char*, std::string> texts[] = {
      {"points.csv", built.points_csv},
      {"points.json", json_text(built.points_json)},
      {"pareto.csv", built.pareto_csv},
      {"pareto.json", json_text(built.pareto_json)}};
  Outputs files;
  for (const auto& [name, text] : texts) files.add(name, join(dir, name));
  for (const auto& [name, text] : texts) files.stage_text(name, text);
  files.commit();
}

// A sweep directory's state and its copy of the sweep file, written atomically.
void write_state(const std::string& dir, const sweep::SweepState& state,
                 const std::string& space_text) {
  Outputs files;
  files.add(kStateFile, join(dir, kStateFile));
  files.add(kSpaceCopy, join(dir, kSpaceCopy));
  files.stage(kStateFile, state.to_json());
  files.stage_text(kSpaceCopy, space_text);
  files.commit();
}

sweep::SweepState read_state(const std::string& dir) {
  const std::string path = join(dir, kStateFile);
  return sweep::SweepState::parse(read_text_file(path, kMaxJsonFileBytes, "a sweep state"), path);
}

// --- accuracy ------------------------------------------------------------------------------

struct ModelEntry {
  Model model;
  arch::Workload workload;
};

// Top-1 correct counts per (model prefix, precision), computed once with the bit-exact engine
// and cached in DIR/accuracy/ keyed by the model's tensors, the precision, the image count and the
// images' bytes.
class AccuracyCache {
 public:
  AccuracyCache(std::string dir, const CifarSet& images, std::string data_sha256, int threads)
      : dir_(std::move(dir)),
        images_(images),
        data_sha256_(std::move(data_sha256)),
        threads_(threads) {}

  size_t correct(const std::string& prefix, const Model& model, const Precision& precision) {
    const auto key = std::make_pair(prefix, precision.label());
    const auto found = known_.find(key);
    if (found != known_.end()) return found->second;
    const std::string text = model.tensors_sha256() + "\nk=" + precision.label() +
                             "\nimages=" + std::to_string(images_.size()) +
                             "\ndata=" + data_sha256_ + "\n";
    const std::string path = join(dir_, sha256_hex(text.data(), text.size()) + ".json");
    size_t correct = 0;
    if (exists(path)) {
      const nlohmann::json document =
          parse_json(read_text_file(path, kMaxJsonFileBytes, "an accuracy cache entry"), path);
      FieldReader reader(document, path, "");
      reader.header("bsnpu-accuracy-cache", 1);
      if (reader.get<std::string>("key") != text) reader.fail("key", "does not match its name");
      correct = static_cast<size_t>(
          reader.integer_in("correct", 0, static_cast<int64_t>(images_.size())));
      reader.finish();
      ++cached_;
    } else {
      const Network network(model, precision);
      const ProgressBar bar("accuracy k=" + precision.label(), images_.size());
      const Classification result = classify(network, images_.pixels.data(), images_.size(),
                                             threads_, [&](size_t done) { bar.update(done); });
      bar.finish();
      for (size_t i = 0; i < images_.size(); ++i)
        correct += result.predictions[i] == images_.labels[i];
      Json entry;
      entry["format"] = "bsnpu-accuracy-cache";
      entry["version"] = 1;
      entry["key"] = text;
      entry["correct"] = correct;
      Outputs file;
      file.add("accuracy cache", path);
      file.stage("accuracy cache", entry);
      file.commit();
      ++computed_;
    }
    known_[key] = correct;
    return correct;
  }
  size_t computed() const { return computed_; }
  size_t cached() const { return cached_; }

 private:
  std::string dir_;
  const CifarSet& images_;
  std::string data_sha256_;
  int threads_;
  std::map<std::pair<std::string, std::string>, size_t> known_;
  size_t computed_ = 0, cached_ = 0;
};

// --- workers -------------------------------------------------------------------------------

struct Job {
  sweep::Point point;
  std::string model_prefix;
  std::vector<Precision> precisions;  // the space's k, or the point's precision
  double area_mm2 = 0;
  std::string config_path, report_path, log_path;
  std::string precision_path;  // the point's precision for the worker (a precision axis only)
};

std::string self_executable() {
  std::error_code error;
  const std::filesystem::path path = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) throw Error("sweep: cannot find the bsnpu executable (/proc/self/exe)");
  return path.string();
}

// Starts `bsnpu run --timing-only` for the job: stdout discarded, stderr to its log. The worker
// dies with the driver (PR_SET_PDEATHSIG), so a killed sweep leaves no process behind.
pid_t spawn(const std::string& executable, const Job& job, const std::string& bits) {
  std::vector<std::string> arguments = {
      executable,     "run",           "--timing-only", "--threads",      "1",
      "--config",     job.config_path, "--model",       job.model_prefix, "--out",
      job.report_path};
  if (job.precision_path.empty()) {
    arguments.insert(arguments.end(), {"--bits", bits});
  } else {
    arguments.insert(arguments.end(), {"--precision", job.precision_path});
  }
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const int log_fd = ::open(job.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (null_fd < 0 || log_fd < 0) {
    throw Error("sweep: " + job.log_path + ": cannot open: " + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    const char message[] = "bsnpu sweep: cannot execute the worker\n";
    (void)!::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(127);
  }
  const int fork_error = errno;
  ::close(null_fd);
  ::close(log_fd);
  if (pid < 0)
    throw Error(std::string("sweep: cannot start a worker: ") + std::strerror(fork_error));
  return pid;
}

// The last non-empty line of a worker's stderr.
std::string last_line(const std::string& path) {
  std::string text;
  try {
    text = read_text_file(path, kMaxJsonFileBytes, "a worker log");
  } catch (const Error&) {
    return "(no message)";
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const size_t newline = text.find_last_of('\n');
  const std::string line = newline == std::string::npos ? text : text.substr(newline + 1);
  return line.empty() ? "(no message)" : line;
}

// The record of a finished job, from its worker's report and the cached accuracy.
Record read_report(const sweep::Space& space, const Job& job, const Model& model,
                   AccuracyCache& accuracy, size_t images) {
  const nlohmann::json report = parse_json(
      read_text_file(job.report_path, kMaxDataFileBytes, "a worker report"), job.report_path);
  Record record;
  record.index = job.point.index;
  record.id = job.point.id;
  record.axes = job.point.axes;
  record.area_mm2 = report.at("area_mm2").at("total").get<double>();
  const nlohmann::json& results = report.at("results");
  if (results.size() != job.precisions.size()) {
    throw Error(job.report_path + ": results: " + std::to_string(results.size()) +
                " precisions, the point runs " + std::to_string(job.precisions.size()));
  }
  for (size_t i = 0; i < results.size(); ++i) {
    const nlohmann::json& row = results[i];
    sweep::BitsRecord bits;
    bits.precision = Json::parse(row.at("precision").dump());
    bits.average_bits = row.at("average_bits").get<double>();
    bits.images = images;
    bits.correct = accuracy.correct(job.model_prefix, model, job.precisions[i]);
    bits.cycles = row.at("cycles").get<uint64_t>();
    bits.stall_cycles = row.at("stall_cycles").get<uint64_t>();
    bits.latency_s = row.at("latency_s").get<double>();
    bits.energy_j = row.at("energy_j").get<double>();
    bits.utilization = row.at("utilization").get<double>();
    bits.weight_bits_read = row.at("weight_bits_read").get<uint64_t>();
    bits.dram_bits = row.at("dram_bits").get<uint64_t>();
    bits.weights_resident = row.at("weights_resident").get<bool>();
    for (int module = 0; module < arch::kModuleCount; ++module) {
      bits.energy_breakdown_j[static_cast<size_t>(module)] =
          row.at("energy_breakdown_j")
              .at(arch::module_name(static_cast<arch::Module>(module)))
              .get<double>();
    }
    record.results.push_back(bits);
  }
  for (sweep::BitsRecord& bits : record.results)
    bits.feasible = sweep::feasible(space, record, bits);
  return record;
}

std::string bits_text(const std::vector<int>& bits) {
  std::string text;
  for (int k : bits) text += (text.empty() ? "" : ",") + std::to_string(k);
  return text;
}

}  // namespace

int sweep_command(int argc, char** argv) {
  std::string space_path, out_dir, shard_text = "0/1", images_text = "1000", model_option,
                                   data_option;
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  po::options_description options(
      "usage: bsnpu sweep --space SPACE.json --out DIR [options]\n"
      "Design-space sweep (docs/sweeps.md): every point of the sweep file's space, each in its "
      "own\n"
      "timing-only bsnpu run, accuracy computed once per (model, k); resumable, shardable");
  options.add_options()("help,h", "show this help")("space", po::value(&space_path),
                                                    "the sweep file (required)")(
      "out", po::value(&out_dir), "the sweep directory: created, or resumed (required)")(
      "jobs,j", po::value(&jobs)->default_value(jobs),
      "points simulated at once, and threads of the accuracy computation")(
      "shard", po::value(&shard_text)->default_value(shard_text),
      "run only the points whose index mod N is i (merge the shards with bsnpu merge)")(
      "images", po::value(&images_text)->default_value(images_text),
      "first N test images for accuracy, or all")(
      "model", po::value(&model_option),
      (std::string(kModelHelp) + "; a \"model\" axis overrides it").c_str())(
      "data", po::value(&data_option), kDataHelp);
  po::variables_map values;
  if (!parse_command_line(argc, argv, options, "sweep", values)) return 0;
  if (space_path.empty()) throw Error("--space: required (see bsnpu sweep --help)");
  if (out_dir.empty()) throw Error("--out: required (see bsnpu sweep --help)");
  if (jobs < 1 || jobs > 1024) throw Error("--jobs: must be in 1..1024");
  sweep::SweepState state;
  sweep::parse_shard(shard_text, state.shard, state.shards);
  const size_t image_limit = parse_images(images_text, "--images");

  // Everything is read and checked before the directory is touched.
  const sweep::Space space = sweep::Space::load(space_path);
  const std::string base_path = space.base_path();
  const Json base = Json::parse(
      parse_json(read_text_file(base_path, kMaxJsonFileBytes, "a config file"), base_path).dump());
  state.space_file = arch::file_name(space_path);
  state.space_sha256 = space.sha256();
  state.points = space.size();

  std::map<std::string, ModelEntry> models;  // by prefix
  const std::string default_model = model_prefix(model_option);
  std::vector<sweep::Point> shard_points;
  for (size_t index = state.shard; index < space.size(); index += state.shards) {
    shard_points.push_back(space.point(index));
  }
  // Every model of the space, so that every shard states the same inputs.
  for (const std::string& prefix : space.model_prefixes(default_model)) {
    Model model = Model::load(prefix);
    for (int k : space.bits()) {
      if (!space.has_precision_axis() && !model.has_bits(k)) {
        throw Error(model.manifest_path() + ": bits: no parameters for k=" + std::to_string(k));
      }
    }
    arch::Workload workload = arch::Workload::from_model(model);
    state.models[arch::file_name(model.manifest_path())] = model.tensors_sha256();
    models.emplace(prefix, ModelEntry{std::move(model), std::move(workload)});
  }
  const CifarSet images = load_cifar_test(data_dir(data_option), image_limit);
  if (image_limit > images.size()) {
    throw Error("--images: " + std::to_string(image_limit) + " requested, the test set has " +
                std::to_string(images.size()));
  }
  state.images = images.size();
  state.data_sha256 = images_sha256(images);

  // Every point's config is checked before the directory is touched.
  std::map<std::string, arch::EnergyTable> tables;
  std::vector<Job> jobs_of_shard;
  std::vector<Record> settled;  // filtered and invalid points: recorded without running
  const std::string work_dir = join(out_dir, "work");
  size_t invalid_points = 0;
  for (const sweep::Point& point : shard_points) {
    Job job;
    job.point = point;
    job.model_prefix = space.model_of(point, default_model);
    const ModelEntry& model = models.at(job.model_prefix);
    const std::string label = space.file() + " " + point_label(point);
    Record record;
    record.index = point.index;
    record.id = point.id;
    record.axes = point.axes;
    try {
      if (space.has_precision_axis()) {
        job.precisions = {Precision::parse(point.axes.at(sweep::kPrecisionField), model.model,
                                           label + ": precision")};
      } else {
        for (int k : space.bits()) job.precisions.push_back(Precision::uniform(model.model, k));
      }
      const arch::NpuConfig config =
          arch::NpuConfig::parse(space.resolve(base, base_path, point).dump(1), label);
      const std::string table_path = config.energy_table_path();
      if (!tables.count(table_path))
        tables.emplace(table_path, arch::EnergyTable::load(table_path));
      for (const Precision& precision : job.precisions) {
        arch::check_schedule_size(model.workload, config, precision.plane_ranges());
      }
      if (model.workload.accumulator_bits > config.accumulator.bits) {
        throw Error(label + ": accumulator.bits: the model needs " +
                    std::to_string(model.workload.accumulator_bits) + " bits");
      }
      job.area_mm2 =
          arch::estimate_area(config, tables.at(table_path), model.workload.act_bits).total();
      const std::string broken = sweep::broken_pre_run_constraint(space, config, job.area_mm2);
      if (!broken.empty()) {
        record.status = sweep::Status::Filtered;
        record.reason = "constraint " + broken;
      }
    } catch (const Error& e) {
      if (!space.skip_invalid()) {
        throw Error(std::string(e.what()) +
                    " (an invalid point stops the sweep; \"skip_invalid\": true records it)");
      }
      record.status = sweep::Status::Invalid;
      record.reason = e.what();
      if (++invalid_points == shard_points.size()) {
        throw Error(space.file() + ": every point is invalid, the first: " + e.what());
      }
    }
    if (record.status != sweep::Status::Ok) {
      settled.push_back(std::move(record));
      continue;
    }
    job.config_path = join(work_dir, "point-" + std::to_string(point.index) + ".config.json");
    job.report_path = join(work_dir, "point-" + std::to_string(point.index) + ".report.json");
    job.log_path = join(work_dir, "point-" + std::to_string(point.index) + ".log");
    if (space.has_precision_axis()) {
      job.precision_path =
          join(work_dir, "point-" + std::to_string(point.index) + ".precision.json");
    }
    jobs_of_shard.push_back(std::move(job));
  }

  // The directory: new, or a sweep of the same space, shard and inputs to resume.
  make_directory("--out", out_dir);
  if (exists(join(out_dir, kStateFile))) {
    const sweep::SweepState previous = read_state(out_dir);
    const std::string difference = previous.difference(state);
    if (!difference.empty()) {
      throw Error("--out: " + out_dir + ": holds another sweep (" + difference +
                  "); use a new directory");
    }
    if (previous.shard != state.shard || previous.shards != state.shards) {
      throw Error("--out: " + out_dir + ": holds shard " + std::to_string(previous.shard) + "/" +
                  std::to_string(previous.shards) + ", not " + shard_text);
    }
  } else if (!empty_directory(out_dir)) {
    throw Error("--out: " + out_dir + ": is not empty and holds no " + kStateFile +
                " (not a sweep directory)");
  } else {
    write_state(out_dir, state, space.text());
  }
  const std::string journal_path = join(out_dir, kJournalFile);
  std::vector<Record> records = sweep::read_journal(journal_path, true);
  std::set<size_t> done;
  for (const Record& record : records) {
    if (record.index >= space.size() || record.index % state.shards != state.shard ||
        record.id != space.point(record.index).id || !done.insert(record.index).second) {
      throw Error(journal_path + ": point " + std::to_string(record.index) + " (" + record.id +
                  ") is not a point of this shard of " + space.file() + ", or appears twice");
    }
  }

  // What is still to do: settled points are recorded at once, the others run.
  sweep::Journal journal(journal_path);
  const size_t skipped = done.size();
  size_t filtered = 0, invalid = 0;
  for (Record& record : settled) {
    if (done.count(record.index)) continue;
    filtered += record.status == sweep::Status::Filtered;
    invalid += record.status == sweep::Status::Invalid;
    journal.append(record);
    records.push_back(std::move(record));
  }
  std::vector<Job> jobs_to_run;
  for (Job& job : jobs_of_shard) {
    if (!done.count(job.point.index)) jobs_to_run.push_back(std::move(job));
  }

  // Accuracy of every (model, k) the pending points need, before the workers start.
  AccuracyCache accuracy(join(out_dir, "accuracy"), images, state.data_sha256, jobs);
  if (!jobs_to_run.empty()) {
    make_directory("--out", join(out_dir, "accuracy"));
    make_directory("--out", work_dir);
    for (const Job& job : jobs_to_run) {
      for (const Precision& precision : job.precisions) {
        accuracy.correct(job.model_prefix, models.at(job.model_prefix).model, precision);
      }
    }
  }

  // The hardware points, -j at a time.
  const std::string executable = self_executable();
  const std::string bits = bits_text(space.bits());
  const ProgressBar bar("sweep", shard_points.size(), true, skipped + filtered + invalid);
  size_t finished = skipped + filtered + invalid, next = 0;
  std::map<pid_t, size_t> running;  // pid -> job
  std::vector<std::string> failures;
  bar.update(finished);
  while (next < jobs_to_run.size() || !running.empty()) {
    while (next < jobs_to_run.size() && running.size() < static_cast<size_t>(jobs)) {
      const Job& job = jobs_to_run[next];
      Outputs config_file;
      config_file.add("config", job.config_path);
      config_file.stage_text("config", space.resolve(base, base_path, job.point).dump(1) + "\n");
      if (!job.precision_path.empty()) {
        config_file.add("precision", job.precision_path);
        config_file.stage_text("precision",
                               job.point.axes.at(sweep::kPrecisionField).dump() + "\n");
      }
      config_file.commit();
      running[spawn(executable, job, bits)] = next++;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw Error(std::string("sweep: waitpid failed: ") + std::strerror(errno));
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const Job& job = jobs_to_run[it->second];
    running.erase(it);
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (ok) {
      Record record;
      try {
        record =
            read_report(space, job, models.at(job.model_prefix).model, accuracy, images.size());
      } catch (const nlohmann::json::exception& e) {
        throw Error(job.report_path + ": not a report of bsnpu run (" + e.what() + ")");
      }
      journal.append(record);
      records.push_back(std::move(record));
      ::unlink(job.config_path.c_str());
      ::unlink(job.report_path.c_str());
      ::unlink(job.log_path.c_str());
      if (!job.precision_path.empty()) ::unlink(job.precision_path.c_str());
    } else {
      const std::string why = WIFSIGNALED(status)
                                  ? "killed by signal " + std::to_string(WTERMSIG(status))
                                  : last_line(job.log_path);
      failures.push_back(point_label(job.point) + " failed: " + why + " (config " +
                         job.config_path + ", log " + job.log_path + ")");
    }
    bar.update(++finished);
  }
  bar.finish();
  ::rmdir(work_dir.c_str());  // only when empty: failed points keep their files

  std::printf(
      "sweep %s, shard %s: %zu points: %zu simulated, %zu done before, %zu filtered, %zu "
      "invalid, %zu failed; accuracy of %zu (model, k) on %zu images: %zu computed, %zu cached\n",
      space.file().c_str(), shard_text.c_str(), shard_points.size(),
      jobs_to_run.size() - failures.size(), skipped, filtered, invalid, failures.size(),
      accuracy.computed() + accuracy.cached(), images.size(), accuracy.computed(),
      accuracy.cached());
  if (!failures.empty()) {
    throw Error("sweep: " + std::to_string(failures.size()) + " of " +
                std::to_string(shard_points.size()) + " points failed, first " + failures.front() +
                "; the finished ones are kept in " + journal_path +
                ": run the same command again to retry the rest");
  }
  write_outputs(out_dir, space, records);
  std::printf("outputs: %s/{points.csv, points.json, pareto.csv, pareto.json}\n", out_dir.c_str());
  return 0;
}

int merge_command(int argc, char** argv) {
  std::vector<std::string> dirs;
  std::string out_dir;
  po::options_description options(
      "usage: bsnpu merge SHARD_DIR... --out DIR\n"
      "Merges the directories of bsnpu sweep --shard i/N (all N of them, each complete) into one\n"
      "sweep directory whose outputs equal an unsharded sweep's, byte for byte");
  options.add_options()("help,h", "show this help")("out", po::value(&out_dir),
                                                    "the merged sweep directory (new or empty)");
  po::options_description all(options);
  all.add_options()("shard-dir", po::value(&dirs));
  po::positional_options_description positionals;
  positionals.add("shard-dir", -1);
  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positionals).run(),
              values);
    po::notify(values);
  } catch (const po::error& e) {
    throw Error(std::string(e.what()) + " (see bsnpu merge --help)");
  }
  if (values.count("help")) {
    std::printf("%s\n",
                [&] {
                  std::ostringstream text;
                  text << options;
                  return text.str();
                }()
                    .c_str());
    return 0;
  }
  if (dirs.empty()) throw Error("merge: no shard directories given (see bsnpu merge --help)");
  if (out_dir.empty()) throw Error("--out: required (see bsnpu merge --help)");

  std::vector<sweep::SweepState> states;
  for (const std::string& dir : dirs) {
    if (!exists(join(dir, kStateFile))) {
      throw Error(dir + ": holds no " + std::string(kStateFile) + " (not a sweep directory)");
    }
    states.push_back(read_state(dir));
  }
  const sweep::SweepState& first = states.front();
  std::vector<std::string> owner(first.shards);
  for (size_t i = 0; i < dirs.size(); ++i) {
    const std::string difference = states[i].difference(first);
    if (!difference.empty()) {
      throw Error(dirs[i] + ": not the same sweep as " + dirs.front() + " (" + difference + ")");
    }
    if (states[i].shards != first.shards) {
      throw Error(dirs[i] + ": a shard of " + std::to_string(states[i].shards) + ", " +
                  dirs.front() + " of " + std::to_string(first.shards));
    }
    std::string& slot = owner[states[i].shard];
    if (!slot.empty()) {
      throw Error(dirs[i] + ": shard " + std::to_string(states[i].shard) + "/" +
                  std::to_string(first.shards) + " is also " + slot);
    }
    slot = dirs[i];
  }
  for (size_t shard = 0; shard < first.shards; ++shard) {
    if (owner[shard].empty()) {
      throw Error("merge: shard " + std::to_string(shard) + "/" + std::to_string(first.shards) +
                  " is missing");
    }
  }
  const std::string space_path = join(dirs.front(), kSpaceCopy);
  const sweep::Space space = sweep::Space::parse(
      read_text_file(space_path, kMaxJsonFileBytes, "a sweep file"), space_path);
  if (space.sha256() != first.space_sha256 || space.size() != first.points) {
    throw Error(space_path + ": does not match " + std::string(kStateFile));
  }
  std::vector<Record> records;
  for (size_t i = 0; i < dirs.size(); ++i) {
    std::vector<Record> shard = sweep::read_journal(join(dirs[i], kJournalFile), false);
    std::set<size_t> have;
    for (const Record& record : shard) {
      if (record.index >= space.size() || record.index % first.shards != states[i].shard ||
          record.id != space.point(record.index).id || !have.insert(record.index).second) {
        throw Error(join(dirs[i], kJournalFile) + ": point " + std::to_string(record.index) +
                    " is not a point of shard " + std::to_string(states[i].shard) +
                    ", or appears twice");
      }
    }
    const size_t expected = (space.size() - states[i].shard + first.shards - 1) / first.shards;
    if (have.size() != expected) {
      size_t missing = states[i].shard;
      while (have.count(missing)) missing += first.shards;
      throw Error(dirs[i] + ": shard " + std::to_string(states[i].shard) + "/" +
                  std::to_string(first.shards) +
                  " is incomplete: " + std::to_string(expected - have.size()) + " of " +
                  std::to_string(expected) + " points missing (first: point " +
                  std::to_string(missing) + "); run its bsnpu sweep again to finish it");
    }
    records.insert(records.end(), shard.begin(), shard.end());
  }
  std::sort(records.begin(), records.end(),
            [](const Record& a, const Record& b) { return a.index < b.index; });

  make_directory("--out", out_dir);
  if (!empty_directory(out_dir)) throw Error("--out: " + out_dir + ": is not empty");
  sweep::SweepState merged = first;
  merged.shard = 0;
  merged.shards = 1;
  std::string journal;
  for (const Record& record : records) journal += sweep::record_line(record) + "\n";
  Outputs journal_file;
  journal_file.add(kJournalFile, join(out_dir, kJournalFile));
  journal_file.stage_text(kJournalFile, journal);
  write_outputs(out_dir, space, records);
  journal_file.commit();
  write_state(out_dir, merged, space.text());
  std::printf("merged %zu shards of %s: %zu points in %s\n", dirs.size(), first.space_file.c_str(),
              records.size(), out_dir.c_str());
  return 0;
}

}  // namespace bsnpu::cli
