#!/usr/bin/env bash
# A real Slurm cluster on this machine, for the sharded-dataset workflow of docs/cluster.md: installs
# Debian's Slurm and MUNGE when missing, starts munged, slurmctld and slurmd (localhost only, a generated
# slurm.conf with this machine's CPUs, every file under a temporary folder, ports 16817/16818 unless
# EVTOOL_SLURM_PORT says otherwise), then runs two array jobs of 4 tasks with `sbatch --array=0-3 --wait`:
# `evtool datasets prepare nmnist --shard $SLURM_ARRAY_TASK_ID/4` on the N-MNIST fixtures and
# `evtool synth --shard $SLURM_ARRAY_TASK_ID/4` of 2,000 digits. It merges the parts and checks that each
# merged dataset holds exactly the samples of the single-machine run, in the same order, with equal
# events. Then it submits docs/cluster.md's sbatch script as written (--shard auto), and one of its tasks
# again alone, and checks their merge the same way; then shuts the daemons down. Safe to rerun; a daemon
# that does not come up fails the run with its log, within a timeout. Needs root (the daemons run as root;
# munged as the munge user). .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
fixtures=${EVTOOL_FIXTURES:-$(cd .. && pwd)/shared/fixtures}
port=${EVTOOL_SLURM_PORT:-16817}

say() { echo "slurm-test [${SECONDS}s]: $*" >&2; }
fail() {
	say "FAILED: $*"
	exit 1
}

[ "$(id -u)" = 0 ] || fail "run as root: the test starts munged, slurmctld and slurmd"
[ -d "$fixtures/nmnist-small" ] || fail "no N-MNIST fixtures at $fixtures/nmnist-small (set EVTOOL_FIXTURES)"

# Debian's packages (slurm-wlm's daemons and client, MUNGE), installed when missing.
missing=()
for pkg in slurmctld slurmd slurm-client munge; do
	dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >&2 ||
		fail "apt-get could not install ${missing[*]}"
fi

work=$(mktemp -d /tmp/evtool-slurm.XXXXXX)
chmod 755 "$work"
conf=$work/slurm.conf
export SLURM_CONF=$conf

# stop ends our daemons only: by the pid files under $work, never by name.
stop() {
	local code=$?
	if [ -f "$conf" ] && [ -f "$work/slurmctld.pid" ]; then
		timeout 20 scontrol shutdown >/dev/null 2>&1 || true
	fi
	for name in slurmd slurmctld munged; do
		local pidfile=$work/$name.pid
		[ "$name" = munged ] && pidfile=$work/munge/munged.pid
		[ -f "$pidfile" ] || continue
		local pid
		pid=$(cat "$pidfile" 2>/dev/null || true)
		[ -n "$pid" ] || continue
		# scontrol shutdown asked the Slurm daemons to stop; one still running after 5 s gets SIGTERM (munged
		# at once), then SIGKILL after 5 s more.
		local term=25
		[ "$name" = munged ] && term=1
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || continue 2
			[ "$i" = "$term" ] && kill "$pid" 2>/dev/null
			sleep 0.2
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	if [ "$code" = 0 ]; then
		rm -rf "$work"
	else
		say "logs and data kept in $work"
	fi
}
trap stop EXIT

# wait_for runs a check until it succeeds, at most $1 seconds; else fails showing a log.
wait_for() {
	local secs=$1 what=$2 log=$3
	shift 3
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			[ -f "$log" ] && tail -n 30 "$log" >&2
			fail "$what did not come up within $secs s"
		fi
		sleep 0.5
	done
}

for p in "$port" $((port + 1)); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		fail "port $p is taken (a Slurm daemon left running? set EVTOOL_SLURM_PORT to another)"
	fi
done

say "building evtool"
CGO_ENABLED=0 go build -o "$work/bin/evtool" ./cmd/evtool
export PATH=$work/bin:$PATH

# MUNGE: a key, socket, pid and log of our own, so that a system munged is left alone.
mkdir -p "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chown -R munge:munge "$work/munge"
chmod 700 "$work/munge"
chmod 400 "$work/munge/munge.key"
socket=$work/munge/munge.socket
runuser -u munge -- /usr/sbin/munged --force --socket="$socket" --key-file="$work/munge/munge.key" \
	--pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed" ||
	fail "munged did not start: $(tail -n 5 "$work/munge/munged.log" 2>/dev/null)"
wait_for 20 munged "$work/munge/munged.log" sh -c "munge -n -S '$socket' | unmunge -S '$socket'"

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/state" "$work/spool"
cat >"$conf" <<EOF
ClusterName=evtooltest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

say "starting slurmctld and slurmd ($cpus CPUs, ports $port and $((port + 1)))"
slurmctld -c -f "$conf" || fail "slurmctld did not start: $(tail -n 20 "$work/slurmctld.log" 2>/dev/null)"
wait_for 30 slurmctld "$work/slurmctld.log" sh -c 'scontrol ping | grep -q "is UP"'
slurmd -f "$conf" || fail "slurmd did not start: $(tail -n 20 "$work/slurmd.log" 2>/dev/null)"
wait_for 60 "slurmd (node $host idle)" "$work/slurmd.log" sh -c "sinfo -h -N -n '$host' -o %T | grep -Eq '^(idle|mixed|allocated)'"

# The single-machine runs: the reference.
out=$work/out
mkdir -p "$out"
say "single-machine runs"
evtool -q datasets prepare nmnist --from "$fixtures/nmnist-small" -o "$out/nmnist-single.arrow"
evtool -q synth --images builtin:digits:2000 --seed 7 -o "$out/synth-single.arrow"

# The array job: every task prepares its part of N-MNIST and synthesises its part of the digits into
# shared folders.
cat >"$work/job.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
evtool -q datasets prepare nmnist --from "$fixtures/nmnist-small" -o "$out/nmnist" --shard \$SLURM_ARRAY_TASK_ID/4 --shard-size 100
evtool -q synth --images builtin:digits:2000 --seed 7 -o "$out/synth" --shard \$SLURM_ARRAY_TASK_ID/4 --shard-format parquet --partition label
EOF
say "sbatch --array=0-3 --wait"
if ! timeout 600 sbatch --array=0-3 --wait --output="$work/job-%a.out" --job-name=evtool-shards "$work/job.sh" >"$work/sbatch.out" 2>&1; then
	cat "$work/sbatch.out" "$work"/job-*.out >&2 2>/dev/null || true
	fail "the array job failed"
fi
cat "$work/sbatch.out" >&2
tasks=$(ls "$work"/job-*.out | wc -l)
[ "$tasks" = 4 ] || fail "the array ran $tasks tasks, not 4"

# Merge the parts; each merged dataset must be the single run's, sample for sample: written back to one
# file by the same writer, the two give the same bytes (ids, labels, events, classes, sensor, source).
for set in nmnist synth; do
	evtool datasets merge "$out/$set"
	evtool info --verify "$out/$set" >"$work/$set-info.txt"
	evtool -q convert "$out/$set" -o "$out/$set-merged-back.arrow" --compression none
	evtool -q convert "$out/$set-single.arrow" -o "$out/$set-single-back.arrow" --compression none
	if ! cmp -s "$out/$set-merged-back.arrow" "$out/$set-single-back.arrow"; then
		evtool info "$out/$set" "$out/$set-single.arrow" >&2 || true
		fail "the merged $set dataset differs from the single-machine run"
	fi
	say "$set: the 4 parts merged equal the single-machine run, sample for sample ($(grep -E '^  samples' "$work/$set-info.txt" | tr -s ' ' | sed 's/^ *//'))"
done

# docs/cluster.md's sbatch script, as written (--shard auto reads the array from Slurm's environment),
# submitted from a folder holding data/nmnist; only its resource requests are overridden to fit this
# machine. Then one task resubmitted alone (sbatch --array=2) redoes its own part.
doc=$work/doc
mkdir -p "$doc/data"
ln -s "$fixtures/nmnist-small" "$doc/data/nmnist"
awk '/^```bash$/ { inb = 1; buf = ""; next }
	/^```/ { if (inb && buf ~ /#SBATCH --array=/) { printf "%s", buf; exit } inb = 0; next }
	inb { buf = buf $0 "\n" }' docs/cluster.md >"$doc/prepare.sbatch"
grep -q '^#SBATCH --array=0-3$' "$doc/prepare.sbatch" || fail "docs/cluster.md has no sbatch script with --array=0-3"
dout=$(grep '^evtool ' "$doc/prepare.sbatch" | sed -E 's/.* -o ([^ ]+).*/\1/')
docsbatch() {
	(cd "$doc" && timeout 600 sbatch --wait --cpus-per-task=1 --mem=0 --output="$work/doc-%a.out" "$@" prepare.sbatch) >"$work/doc-sbatch.out" 2>&1 || {
		cat "$work/doc-sbatch.out" "$work"/doc-*.out >&2 2>/dev/null || true
		fail "docs/cluster.md's sbatch script failed ($*)"
	}
}
say "docs/cluster.md's sbatch script: sbatch --wait prepare.sbatch (writes $dout)"
docsbatch
rm -f "$doc/$dout"/part-00002-of-00004*
say "the script's task 2 alone: sbatch --array=2 --wait prepare.sbatch"
docsbatch --array=2
(
	cd "$doc"
	evtool -q datasets merge "$dout"
	evtool -q datasets prepare nmnist --from data/nmnist --split train -o single.arrow
	evtool -q convert "$dout" -o merged-back.arrow --compression none
	evtool -q convert single.arrow -o single-back.arrow --compression none
	cmp -s merged-back.arrow single-back.arrow
) || fail "docs/cluster.md's array job, merged, differs from the single-machine run"
say "docs/cluster.md's sbatch script: its 4 parts (one rerun alone) merged equal the single-machine run"
say "passed"
