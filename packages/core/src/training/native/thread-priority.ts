import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * The nice value of training: the training threads (the train worker and the forest workers) give it
 * themselves, and a train process (`trainIsolation: 'process'`) takes it for all its threads. The
 * kernel then favours the host's own threads (its event loop above all) when they compete for the
 * cores, so serving keeps its latency while a model trains; training still gets every idle cycle.
 *
 * Not 19: against one busy process at nice 0, Linux gives nice 10 about a tenth of a core and nice 19
 * about 1.5%. A train process at nice 19 starved on a host whose cores were busy (a 300-row training
 * took over 60 s while four other processes ran, against 2 s), and nice 19 did not lower the serving
 * bench's latencies against nice 10.
 */
export const TRAINING_NICE = 10;

/**
 * Lowers the scheduling priority of the calling thread to {@link TRAINING_NICE}, never raising
 * it (a thread already nicer is left alone). On Linux `setpriority(PRIO_PROCESS, 0)` applies to the
 * calling thread only, so a worker thread lowers itself and not the host; threads it starts later
 * inherit its value. Elsewhere (macOS, Windows) it may apply to the whole process, so it is done only
 * on Linux. It can be refused (a seccomp profile, a container without the permission): training then
 * runs at normal priority. Returns whether the priority was lowered.
 */
export function lowerThreadPriority(): boolean {
  return process.platform === 'linux' && lowerPriorityTo(TRAINING_NICE);
}

/**
 * Sets the nice value of thread `tid` (0: the calling thread, or the process where the value is the
 * process's) to `nice` unless it is already that low.
 */
function lowerPriorityTo(nice: number, tid = 0): boolean {
  try {
    if (getPriority(tid) >= nice) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}

/**
 * Lowers a train process to {@link TRAINING_NICE}, on any platform: called by the process's main
 * thread before it starts a thread (on Linux the value is per thread and inherited; elsewhere it is
 * the process's). On Linux the threads Node started before any code ran (V8's platform workers, which
 * collect and compile for the training) are lowered too, by thread id: left at the host's priority
 * they took 0.6 s of a core in 15 s of a 100-tree training, competing with the host's event loop.
 * Never raises a value; returns whether the calling thread's was lowered.
 */
export function lowerTrainProcessPriority(): boolean {
  const lowered = lowerPriorityTo(TRAINING_NICE);
  if (process.platform === 'linux') for (const tid of threadIds()) lowerPriorityTo(TRAINING_NICE, tid);
  return lowered;
}

/** The ids of this process's threads (Linux); none where /proc cannot be read. */
function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return [];
  }
}
