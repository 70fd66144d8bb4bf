/**
 * lambdalet's OpenTelemetry tracer, looked up at every span rather than once at import.
 *
 * A tracer obtained from `trace.getTracer()` stays bound to the ProxyTracerProvider that was global
 * when it was obtained; `trace.disable()` replaces that provider, so a tracer held from before a
 * host's disable-then-register (a test suite's teardown, a host reconfiguring telemetry) would send
 * every later span to the old, unregistered provider and record nothing. The lookup is a map hit in
 * the SDK's provider and a small object without one.
 */
import { trace, type Tracer } from '@opentelemetry/api';

export function lambdaletTracer(): Tracer {
  return trace.getTracer('lambdalet');
}
