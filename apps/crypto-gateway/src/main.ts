import './process-settings';
import { ServerCredentials } from '@grpc/grpc-js';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { PROTO_DIR, PROTO_LOADER_OPTIONS, ProtoFiles } from '@keyfleet/contracts';
import { bootstrapService } from '@keyfleet/service-kit';
import { AppModule } from './app.module';
import { loadCryptoGatewayConfig } from './config/crypto-gateway.config';
import { tlsFile } from './gateway.runtime';

void bootstrapService({
  service: 'crypto-gateway',
  loadConfig: loadCryptoGatewayConfig,
  module: (config, context) => AppModule.register(config, context),
  configure: async (app, config) => {
    const { tlsDir } = config.grpc;
    app.connectMicroservice<MicroserviceOptions>(
      {
        transport: Transport.GRPC,
        options: {
          package: ['keyfleet.crypto.v1', 'keyfleet.hsm.v1'],
          protoPath: [ProtoFiles.Crypto, ProtoFiles.HsmAdmin],
          loader: { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTO_DIR] },
          url: `${config.grpc.host}:${config.grpc.port}`,
          // mTLS: only clients with a certificate from our CA get in; the policy decides what they may do.
          credentials: ServerCredentials.createSsl(tlsFile(tlsDir, 'ca.crt'), [{ cert_chain: tlsFile(tlsDir, 'server.crt'), private_key: tlsFile(tlsDir, 'server.key') }], true),
          maxReceiveMessageLength: config.grpc.maxMessageBytes,
          maxSendMessageLength: config.grpc.maxMessageBytes,
        },
      },
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
  },
});
