/**
 * node:tty: a Lambda function's stdout and stderr are pipes to its log, never a terminal, so
 * `isatty(fd)` is false for every descriptor (libraries such as `debug` ask it at load time).
 * Constructing a tty stream fails as it does in Node on Lambda, where no descriptor is a TTY.
 */
import { nodeError } from '../bridge.ts';

function ttyInitFailed(): never {
  throw nodeError(Error, 'ERR_TTY_INIT_FAILED', 'TTY initialization failed: uv_tty_init returned EINVAL (invalid argument)');
}

export const tty = {
  isatty: (fd: unknown): boolean => {
    void fd;
    return false;
  },
  ReadStream: function ReadStream(): never {
    return ttyInitFailed();
  },
  WriteStream: function WriteStream(): never {
    return ttyInitFailed();
  },
};
