/**
 * A DNS server on loopback that answers A queries from a table the test changes while it runs: a
 * name that moves, as a Kubernetes headless service's does when its pods are rescheduled. UDP only,
 * A records only (AAAA and unknown names get an empty answer, NXDOMAIN for unknown names), TTL 0.
 * Packets are encoded and decoded by dns-packet.
 */
import dgram from 'node:dgram';
import * as packet from 'dns-packet';

export class TestDnsServer {
  private readonly records = new Map<string, string[]>();
  /** A queries answered, per name (tests assert the client asked again). */
  readonly queries = new Map<string, number>();

  private constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
  ) {}

  static async start(): Promise<TestDnsServer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    const server = new TestDnsServer(socket, socket.address().port);
    socket.on('message', (msg, from) => server.answer(msg, from));
    return server;
  }

  /** `ip:port` for store.redis.dnsServers. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  set(name: string, addresses: string[]): void {
    this.records.set(name.toLowerCase(), [...addresses]);
  }

  private answer(msg: Buffer, from: dgram.RemoteInfo): void {
    let query: packet.Packet;
    try {
      query = packet.decode(msg);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase();
    const known = this.records.get(name);
    if (question.type === 'A') this.queries.set(name, (this.queries.get(name) ?? 0) + 1);
    const answers: packet.Answer[] =
      question.type === 'A' && known
        ? known.map((data) => ({ type: 'A', class: 'IN', name: question.name, ttl: 0, data }))
        : [];
    const reply = packet.encode({
      id: query.id,
      type: 'response',
      // RD copied, RA set; rcode 3 (NXDOMAIN) for a name the table does not hold.
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (known ? 0 : 3),
      questions: [question],
      answers,
    });
    this.socket.send(reply, from.port, from.address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
