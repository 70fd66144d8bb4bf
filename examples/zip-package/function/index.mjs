// An ESM handler, as in a Lambda deployment package: it imports a dependency from node_modules/.
import slugify from 'slugify';

export const handler = async (event) => ({
  slug: slugify(event.title ?? ''),
  region: process.env.AWS_REGION,
});
