// The inbox folder: <inbox>/<feed>/<name>.csv. Lists ready files (never `.part`, never dot-files or
// dot-folders such as .done, .rejected, .geo) in arrival order, and moves processed files aside.
import fs from 'node:fs/promises';
import path from 'node:path';

export interface InboxFile {
  /** The folder name (a feed name, or an unknown one). */
  feed: string;
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
}

export const DONE_DIR = '.done';
export const REJECTED_DIR = '.rejected';

function isReady(name: string): boolean {
  return !name.startsWith('.') && name.toLowerCase().endsWith('.csv');
}

/**
 * Ready files per folder, each folder's files in arrival order (modification time, then name). With
 * `settleMs`, a file modified less than that long ago is left for a later run (a writer that does not
 * use `.part` may still be appending); `onUnsettled` hears of each one.
 */
export async function listInbox(
  inbox: string,
  opts: { settleMs?: number; now?: number; onUnsettled?: (f: InboxFile) => void; onSymlink?: (path: string) => void } = {}
): Promise<Map<string, InboxFile[]>> {
  const settledBefore = (opts.now ?? Date.now()) - (opts.settleMs ?? 0);
  const byFeed = new Map<string, InboxFile[]>();
  let entries;
  try {
    entries = await fs.readdir(inbox, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return byFeed;
    throw e;
  }
  for (const dir of entries) {
    if (!dir.isDirectory() || dir.name.startsWith('.')) continue;
    const folder = path.join(inbox, dir.name);
    const files: InboxFile[] = [];
    for (const f of await fs.readdir(folder, { withFileTypes: true })) {
      // A symbolic link is not read (it may point anywhere), but never passed over without a word.
      if (f.isSymbolicLink() && isReady(f.name)) opts.onSymlink?.(path.join(folder, f.name));
      if (!f.isFile() || !isReady(f.name)) continue;
      const p = path.join(folder, f.name);
      try {
        const st = await fs.stat(p);
        const file = { feed: dir.name, name: f.name, path: p, size: st.size, mtimeMs: st.mtimeMs };
        if (opts.settleMs && st.mtimeMs > settledBefore) opts.onUnsettled?.(file);
        else files.push(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // moved away meanwhile
      }
    }
    files.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (files.length) byFeed.set(dir.name, files);
  }
  return byFeed;
}

/**
 * <inbox>/<.done|.rejected>/<feed>/, made when missing — one level at a time: a recursive mkdir reports a full
 * disk (ENOSPC) as ENOENT, "no such file or directory", which would send the operator looking for the wrong thing.
 */
async function folderAside(inbox: string, feed: string, to: typeof DONE_DIR | typeof REJECTED_DIR): Promise<string> {
  const dir = path.join(inbox, to, feed);
  for (const d of [path.join(inbox, to), dir]) {
    try {
      await fs.mkdir(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return dir;
}

/**
 * Make <inbox>/<.done|.rejected>/<feed>/ before anything of a file is recorded, so that a disk too full to hold
 * the folder fails the file while nothing is kept (and it stays in the inbox), not after its rows are committed.
 */
export async function prepareAside(inbox: string, feed: string, to: typeof DONE_DIR | typeof REJECTED_DIR): Promise<void> {
  try {
    await folderAside(inbox, feed, to);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw Object.assign(
      new Error(
        `could not make the folder ${to}/${feed}/ to move the file to (${err.message}); nothing of it was kept, it stays in the inbox`,
        {
          cause: e
        }
      ),
      { code: err.code }
    );
  }
}

/**
 * Move a processed file to <inbox>/<.done|.rejected>/<feed>/, never overwriting an earlier file of the
 * same name (a `~<file_id>` suffix then). Returns the new path, or null when the file is already gone.
 */
export async function moveAside(
  inbox: string,
  file: InboxFile,
  to: typeof DONE_DIR | typeof REJECTED_DIR,
  fileId: number | null
): Promise<string | null> {
  const dir = await folderAside(inbox, file.feed, to);
  let dest = path.join(dir, file.name);
  for (let n = 0; ; n++) {
    try {
      await fs.access(dest);
    } catch {
      break; // free
    }
    const ext = path.extname(file.name);
    const stem = file.name.slice(0, file.name.length - ext.length);
    dest = path.join(dir, `${stem}~${fileId ?? 'x'}${n ? `-${n}` : ''}${ext}`);
  }
  try {
    await fs.rename(file.path, dest);
    return dest;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
