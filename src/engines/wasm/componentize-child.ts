/**
 * One componentize-qjs build, in a child process of its own (componentize.ts `buildInChild`).
 *
 * Why a process: componentize-qjs runs the module's top level at build time (Wizer) on a worker
 * thread of its own native (tokio) runtime, one per core, with no limit; a top level that never ends
 * (`for (;;) {}`) spun a core for good (one `tokio-rt-worker` thread at 100 %, the deploy never
 * answered), and as many such deploys as cores held every worker, so every later `code: { entry }`
 * build of every tenant waited for ever (2 cores: a plain build not done 20 s later). Nothing can
 * stop that thread from JavaScript; a process can be killed.
 *
 * Protocol (IPC, advanced serialization): the parent sends one {@link BuildRequest}; the child
 * answers one {@link BuildReply} and exits. It exits too when the parent goes away.
 */
export interface BuildRequest {
  readonly witPath: string;
  readonly jsSource: string;
  readonly world: string;
}

export type BuildReply =
  | { readonly t: 'built'; readonly component: Uint8Array }
  /** componentize-qjs refused the module (its message: the shape check's mark, a syntax error...). */
  | { readonly t: 'refused'; readonly message: string }
  /** componentize-qjs itself did not load (an optional dependency without a binary for this platform). */
  | { readonly t: 'unavailable'; readonly message: string };

async function build(request: BuildRequest): Promise<BuildReply> {
  let qjs: typeof import('componentize-qjs');
  try {
    qjs = await import('componentize-qjs');
  } catch (error) {
    return { t: 'unavailable', message: (error as Error).message };
  }
  try {
    const { component } = await qjs.componentize({ witPath: request.witPath, jsSource: request.jsSource, world: request.world, sync: true });
    return { t: 'built', component: new Uint8Array(component) };
  } catch (error) {
    return { t: 'refused', message: (error as Error).message };
  }
}

if (process.send !== undefined) {
  // A build whose parent is gone has no one to answer: end it (a spinning top level included —
  // this thread is free, the build runs on componentize-qjs's own).
  process.once('disconnect', () => process.exit(0));
  process.once('message', (request: BuildRequest) => {
    void build(request).then((reply) => process.send!(reply, () => process.exit(0)));
  });
}
