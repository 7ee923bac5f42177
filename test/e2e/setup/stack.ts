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

export function deployEnv(s: StackSettings): NodeJS.ProcessEnv {
  return {
    ...process.env,
    STACK_NAME: s.stackName,
    GATEWAY_PORT: String(s.gatewayPort),
    PROMETHEUS_PORT: String(s.prometheusPort),
    ALERTMANAGER_PORT: String(s.alertmanagerPort),
    RABBITMQ_PORT: String(s.rabbitmqPort),
  };
}
