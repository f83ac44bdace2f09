import { getPriority, setPriority } from 'node:os';

/**
 * The nice value the training threads (the train worker and the forest workers) give themselves: the
 * kernel then favours the host's own threads (its event loop above all) when they compete for the
 * cores, so serving keeps its latency while a model trains; training still gets every idle cycle.
 */
export const TRAINING_THREAD_NICE = 10;

/**
 * Lowers the scheduling priority of the calling thread to {@link TRAINING_THREAD_NICE}, never raising
 * it (a thread already nicer is left alone). On Linux `setpriority(PRIO_PROCESS, 0)` applies to the
 * calling thread only, so a worker thread lowers itself and not the host; threads it starts later
 * inherit its value. Elsewhere (macOS, Windows) it may apply to the whole process, so it is done only
 * on Linux. It can be refused (a seccomp profile, a container without the permission): training then
 * runs at normal priority. Returns whether the priority was lowered.
 */
export function lowerThreadPriority(): boolean {
  return process.platform === 'linux' && lowerPriorityTo(TRAINING_THREAD_NICE);
}

/** Sets the calling thread's (or process's) nice value to `nice` unless it is already that low. */
function lowerPriorityTo(nice: number): boolean {
  try {
    if (getPriority(0) >= nice) return false;
    setPriority(0, nice);
    return true;
  } catch {
    return false;
  }
}

/**
 * The nice value of a train process (`trainIsolation: 'process'`): the lowest priority, since the
 * whole process is background work; its threads inherit it.
 */
export const TRAIN_PROCESS_NICE = 19;

/**
 * Lowers a train process to {@link TRAIN_PROCESS_NICE}, on any platform: called by the process's main
 * thread before it starts a thread (on Linux the value is per thread and inherited; elsewhere it is
 * the process's). Never raises it; returns whether it was lowered.
 */
export function lowerTrainProcessPriority(): boolean {
  return lowerPriorityTo(TRAIN_PROCESS_NICE);
}
