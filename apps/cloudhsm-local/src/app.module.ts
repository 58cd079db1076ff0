import { Module, type DynamicModule } from '@nestjs/common';
import type { CloudHsmLocalConfig } from './config/cloudhsm-local.config';

/** The AWS JSON 1.1 endpoints, the SoftHSM2-backed clusters and cloudhsm-cli arrive with the cloudhsm-local issue. */
@Module({})
export class AppModule {
  static register(_config: CloudHsmLocalConfig): DynamicModule {
    return { module: AppModule };
  }
}
