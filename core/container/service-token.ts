import type { DependencyContainer } from 'tsyringe';

/**
 * A typed DI token: a symbol that remembers the type of the service registered under it, so that
 * `resolveService(container, loggerToken)` is a `Logger` without a cast at the call site.
 */
export type ServiceToken<Service> = symbol & { readonly __service?: Service };

/** Makes a new typed token. */
export function serviceToken<Service>(description: string): ServiceToken<Service> {
  return Symbol(description) as ServiceToken<Service>;
}

/** Resolves a typed token. */
export function resolveService<Service>(container: DependencyContainer, token: ServiceToken<Service>): Service {
  return container.resolve<Service>(token);
}

/** Registers a ready-made value under a typed token. */
export function registerService<Service>(container: DependencyContainer, token: ServiceToken<Service>, value: Service): void {
  container.register<Service>(token, { useValue: value });
}
