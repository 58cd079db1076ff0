import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { SoftHsmTokenMaterializer } from './softhsm-token.materializer';

/** Finalizes the materialiser's PKCS#11 library on shutdown (a class provider, so Nest calls the hook). */
@Injectable()
export class SoftHsmLifecycle implements OnApplicationShutdown {
  constructor(@Inject(SoftHsmTokenMaterializer) private readonly materializer: SoftHsmTokenMaterializer | null) {}

  onApplicationShutdown(): void {
    this.materializer?.close();
  }
}
