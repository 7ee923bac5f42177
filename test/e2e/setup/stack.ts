// Where the end-to-end stack lives: its name and ports come from the
// environment so several stacks can run side by side on one swarm.
export interface StackSettings {
  stackName: string;
  gatewayPort: number;
  prometheusPort: number;
  alertmanagerPort: number;
  /** The stack's RabbitMQ's AMQP port on this node (the e2e stack brings a broker: --with-rabbitmq --publish-rabbitmq). */
  rabbitmqPort: number;
}

export function stackSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  return {
    stackName: env.E2E_STACK ?? 'faastest',
    gatewayPort: Number(env.E2E_GATEWAY_PORT ?? 18080),
    prometheusPort: Number(env.E2E_PROMETHEUS_PORT ?? 19090),
    alertmanagerPort: Number(env.E2E_ALERTMANAGER_PORT ?? 19093),
    rabbitmqPort: Number(env.E2E_RABBITMQ_PORT ?? 18672),
  };
}

/** The options the suites' stack is deployed with: its own RabbitMQ, the AMQP port published for the RabbitMQ suite's producer. */
export const DEPLOY_ARGS = ['--with-rabbitmq', '--publish-rabbitmq'];

export function deployEnv(s: StackSettings): NodeJS.ProcessEnv {
  return {
    // The builder suites (test/e2e/build*.test.ts): one build at a time, so two at once show the wait.
    BUILD_CONCURRENCY: '1',
    ...process.env,
    STACK_NAME: s.stackName,
    GATEWAY_PORT: String(s.gatewayPort),
    PROMETHEUS_PORT: String(s.prometheusPort),
    ALERTMANAGER_PORT: String(s.alertmanagerPort),
    // The suites' callback receivers are functions, on the stack's overlay networks
    // (Swarm's default pool): allowed; the stack's own tasks and the node stay refused.
    ASYNC_CALLBACK_ALLOW: process.env.ASYNC_CALLBACK_ALLOW ?? '10.0.0.0/8',
    // Capacity scaling's stable window, shortened so that a function scaled on its calls in flight is back at its minimum within the test.
    CAPACITY_STABLE_WINDOW: process.env.CAPACITY_STABLE_WINDOW ?? '15s',
    CAPACITY_PANIC_WINDOW: process.env.CAPACITY_PANIC_WINDOW ?? '3s',
    // A short line of calls waiting for a slot, so that a test reaches its end with few calls.
    CONCURRENCY_MAX_WAITING: process.env.CONCURRENCY_MAX_WAITING ?? '40',
    RABBITMQ_PORT: String(s.rabbitmqPort),
  };
}
