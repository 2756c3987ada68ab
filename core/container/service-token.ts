import { Lifecycle, type DependencyContainer, type Disposable } from 'tsyringe';

/**
 * A typed DI token: a symbol that remembers the type of the service registered under it, so that
 * `resolveService(container, loggerToken)` is a `Logger` without a cast at the call site.
 */
export type ServiceToken<Service> = symbol & { readonly __service?: Service };

/** Makes a new typed token. */
export function serviceToken<Service>(description: string): ServiceToken<Service> {
  return Symbol(description);
}

/** Resolves a typed token. */
export function resolveService<Service>(container: DependencyContainer, token: ServiceToken<Service>): Service {
  return container.resolve<Service>(token);
}

/** Registers a ready-made value under a typed token. */
export function registerService<Service>(container: DependencyContainer, token: ServiceToken<Service>, value: Service): void {
  container.register<Service>(token, { useValue: value });
}

/**
 * Registers a service that holds a resource (open files, processes) under a typed token: built once
 * per container on first use, and disposed by `container.dispose()`. tsyringe disposes only what it
 * constructed itself, hence a class with a constructor of no arguments, not a ready-made value.
 */
export function registerDisposable<Service extends Disposable>(
  container: DependencyContainer,
  token: ServiceToken<Service>,
  service: new () => Service,
): void {
  container.register<Service>(token, { useClass: service }, { lifecycle: Lifecycle.ContainerScoped });
}
