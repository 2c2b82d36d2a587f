// What went wrong, told in words a patient understands, from the gateway's answer (its
// status and OperationOutcome). The technical detail stays available, folded.
import { ApiError } from './api';

export interface Explained {
  message: string;
  detail: string;
}

export function explain(err: unknown, context: Record<number, string> = {}): Explained {
  if (!(err instanceof ApiError)) {
    return { message: 'Une erreur inattendue est survenue. Rechargez la page puis réessayez.', detail: String(err) };
  }
  const detail = [err.message, err.requestId ? `référence ${err.requestId}` : ''].filter(Boolean).join(' — ');
  if (context[err.status]) return { message: context[err.status], detail };
  const code = err.issues[0]?.code || '';
  let message: string;
  switch (err.status) {
    case 0:
      message = 'Le service ne répond pas. Vérifiez votre connexion à Internet puis réessayez.';
      break;
    case 400:
      message = 'La demande n’a pas pu être comprise. Vérifiez les informations saisies.';
      break;
    case 401:
      message = 'Votre session a expiré ou n’est pas reconnue. Reconnectez-vous.';
      break;
    case 403:
      message = 'Cette action ne vous est pas permise sur ce dossier.';
      break;
    case 404:
      message =
        code === 'dev-login-absent'
          ? 'La connexion de développement n’est pas ouverte sur ce serveur. Connectez-vous avec votre identité numérique.'
          : 'Cette information est introuvable : elle n’existe pas ou vous n’y avez pas accès.';
      break;
    case 409:
      message = 'Cette action est en conflit avec l’état actuel de votre dossier.';
      break;
    case 410:
      message = 'Ce document a été remplacé ou supprimé.';
      break;
    case 413:
      message = 'Le fichier est trop volumineux.';
      break;
    case 415:
      message = 'Ce type de fichier n’est pas accepté : envoyez un PDF, une image JPEG ou PNG.';
      break;
    case 422:
      message = 'Les informations envoyées ne sont pas acceptées. Vérifiez-les puis réessayez.';
      break;
    case 429:
    case 503:
      message = 'Le service est momentanément indisponible. Réessayez dans quelques minutes.';
      break;
    default:
      message = 'Une erreur est survenue de notre côté. Réessayez plus tard.';
  }
  return { message, detail };
}
