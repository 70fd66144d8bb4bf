/** node:path: path-browserify (Node's own posix implementation, extracted); Lambda is Linux. */
import pathBrowserify from 'path-browserify';

export const path = pathBrowserify as typeof pathBrowserify & { posix: typeof pathBrowserify };
