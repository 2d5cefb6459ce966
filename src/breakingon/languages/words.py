"""Small, documented word lists per language for the sentence rules of briefs.

English keeps its own rules in `text.py` (tuned on English news and measured there); these
lists carry the same rules to German, French, Spanish, Portuguese, Italian and Dutch.
A language without a list here gets no such rule: a filter that only knows English words
simply does not apply to it (docs/briefs.md, "Languages"). Every list is lower case and
deliberately short: a word that is also common in another sense (Portuguese "nos" is
"in the" as well as "us", Italian "ci" is "there", German "Sie" is "you" as well as
"they", Dutch "het" is the article) is left out, so a rule never fires on ordinary
reporting. Pure data, standard library only.
"""

from __future__ import annotations

__all__ = [
    "ABBREVIATIONS",
    "AGENCIES",
    "COMMON_ABBREVIATIONS",
    "FIRST_PERSON",
    "GERMAN_ORDINAL_AFTER",
    "GERMAN_ORDINAL_BEFORE",
    "NEGATIONS",
    "NOISE_STARTS",
    "NOT_BACK_REFERENCE",
    "NUMBER_WORDS",
    "PASSIVE_AGENT",
    "PERSONAL_STARTS",
    "PROMO_PHRASES",
    "PRONOUN_STARTS",
    "SECOND_PERSON",
    "UNSPACED",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Abbreviations that end with a full stop inside a sentence (without the stop). A single
# letter and its stop ("z. B.", "S.A.", "M. Dupont", "d.w.z.") never ends a sentence in
# any language (`split.split_paragraph_in`), so those are not listed.
ABBREVIATIONS: dict[str, frozenset[str]] = {
    "de": _words(
        "bzw ca dr prof nr str st usw vgl mio mrd tsd jh jhd abs bspw ggf inkl evtl sog "
        "bzgl zzgl dipl ing mag hrsg ehem geb gest allg dt engl franz sen jun kap "
        "jan feb febr mär apr jun jul aug sep sept okt nov dez mo di mi do"
    ),
    "fr": _words(
        "mm mme mmes mlle mlles mgr dr pr me st ste av apr etc env cf ex vol art chap fig "
        "janv févr avr juil sept oct nov déc bd éd hab"
    ),
    "es": _words(
        "sr sra sres srta dr dra lic ing arq dña ud uds vd vds ee uu pág págs núm art etc "
        "aprox av avda gral cía admón ene feb abr jun jul ago sept oct nov dic"
    ),
    "pt": _words(
        "sr sra srs srta dr dra prof profa eng av pág núm art etc aprox cia ltda "
        "jan fev abr jun jul ago set out nov dez"
    ),
    "it": _words(
        "sig sigg sigra dott dottssa prof avv ing on arch rag ecc pag art gen genn febbr "
        "apr giu lug ago sett ott nov dic spett"
    ),
    "nl": _words(
        "dhr mevr mw dr prof ir ing mr drs st bijv bv ca nr blz jan feb mrt apr jun jul aug "
        "sep sept okt nov dec enz resp"
    ),
}

# Titles met in every language's news ("Dr. Weber", "Mr. Obama", "Prof. Rossi").
COMMON_ABBREVIATIONS = _words("dr prof mr mrs ms jr ca")

# German writes ordinals with a full stop ("am 3. Oktober", "zum 2. Mal", "im 19.
# Jahrhundert"): a number of one or two digits and its stop ends no sentence when a
# month or one of these nouns follows, or when one of these words comes before it.
GERMAN_ORDINAL_AFTER = _words(
    "januar februar märz april mai juni juli august september oktober november dezember "
    "jänner jan feb mär apr jun jul aug sep sept okt nov dez "
    "mal jahrhundert jahrtausend platz rang stock etage runde spieltag liga klasse "
    "jahrestag geburtstag todestag weltkrieg lebensjahr quartal halbjahr woche monat "
    "kalenderwoche tag minute bundesliga fc"
)
GERMAN_ORDINAL_BEFORE = _words(
    "am vom zum zur im beim bis seit ab der die das den dem des ihr ihre ihrem ihren "
    "ihres sein seine seinem seinen seines jeden jedem jeder zum"
)

# Outlets' agency tags in a dateline ("München (dpa) - ", "Madrid (EFE). ").
AGENCIES = (
    "dpa",
    "dpa-AFX",
    "AFP",
    "AP",
    "Reuters",
    "EFE",
    "ANSA",
    "KNA",
    "epd",
    "APA",
    "SDA",
    "sda",
    "ats",
    "Belga",
    "ANP",
    "Lusa",
    "Europa Press",
    "Xinhua",
    "TASS",
    "Interfax",
    "PAP",
    "ČTK",
    "MTI",
    "Agência Brasil",
)

# Speaking as I or we outside quotation marks: a column, a review, a reader's comment.
FIRST_PERSON: dict[str, frozenset[str]] = {
    "de": _words(
        "ich mich mir mein meine meinen meinem meiner meines wir uns unser unsere unseren "
        "unserem unserer unseres"
    ),
    "fr": _words("je j' me m' moi mon ma mes nous notre nos"),
    "es": _words("yo me mí mi mis conmigo nosotros nosotras nuestro nuestra nuestros nuestras"),
    "pt": _words("eu me mim meu minha meus minhas comigo nós nosso nossa nossos nossas"),
    "it": _words("io mi me mio mia miei mie noi nostro nostra nostri nostre"),
    "nl": _words("ik mij me mijn wij we ons onze"),
}
# Speaking to the reader ("you").
SECOND_PERSON: dict[str, frozenset[str]] = {
    "de": _words("du dich dir dein deine deinen deinem deiner euch euer eure"),
    "fr": _words("tu toi ton ta tes vous votre vos"),
    "es": _words("tú ti tu tus vosotros vosotras vuestro vuestra usted ustedes"),
    "pt": _words("tu ti teu tua teus tuas você vocês"),
    "it": _words("tu tuo tua tuoi tue voi vostro vostra vostri"),
    "nl": _words("jij jou jouw jullie"),
}

# Openings that lean back on a sentence before them ("Er sagte ...", "Cette décision
# ..."), as English's "He", "This", "The move": the first word, capitalised.
PRONOUN_STARTS: dict[str, frozenset[str]] = {
    "de": _words(
        "Er Sie Dies Diese Dieser Dieses Diesem Diesen Sein Seine Seinen Seinem Seiner Ihr "
        "Ihre Ihren Ihrem Ihrer Ihm Ihn Ihnen Damit Dabei Dazu Daher Deshalb Deswegen Dort "
        "Letzterer Letztere Ersterer Erstere Beide"
    ),
    "fr": _words(
        "Il Elle Ils Elles Ce Cela Ceci Ça Celui Celle Ceux Celles Son Sa Ses Leur Leurs "
        "Lui Cette Ces Cet Ceux-ci Celui-ci Celle-ci"
    ),
    "es": _words(
        "Él Ella Ellos Ellas Esto Eso Este Esta Estos Estas Ese Esa Esos Esas Su Sus Dicho "
        "Dicha Dichos Dichas Ambos Ambas"
    ),
    "pt": _words(
        "Ele Ela Eles Elas Isso Isto Este Esta Estes Estas Esse Essa Esses Essas Seu Sua "
        "Seus Suas Ambos Ambas"
    ),
    "it": _words(
        "Lui Lei Loro Egli Esso Essa Essi Esse Questo Questa Questi Queste Quello Quella "
        "Quelli Quelle Ciò Suo Sua Suoi Sue Entrambi Entrambe"
    ),
    "nl": _words("Hij Zij Ze Dit Dat Deze Zijn Haar Hun Hem Daarmee Daardoor Daarom Beiden"),
}
# Of those, the personal ones: the person may have been named a few sentences before.
PERSONAL_STARTS: dict[str, frozenset[str]] = {
    "de": _words("Er Sie Sein Seine Seinen Seinem Seiner Ihr Ihre Ihren Ihrem Ihrer Ihm Ihn"),
    "fr": _words("Il Elle Son Sa Ses Lui"),
    "es": _words("Él Ella Su Sus"),
    "pt": _words("Ele Ela Seu Sua Seus Suas"),
    "it": _words("Lui Lei Egli Ella Suo Sua Suoi Sue"),
    "nl": _words("Hij Zij Ze Zijn Haar Hem"),
}
# A demonstrative before one of these is a time ("Diese Woche", "Cette année", "Este
# año"), and these two-word openings are the expletive "it" ("Es gibt", "Il y a", "Il
# faut"): no back-reference.
NOT_BACK_REFERENCE: dict[str, frozenset[str]] = {
    "de": _words(
        "woche jahr monat wochenende morgen abend nacht saison tag zeit "
        "montag dienstag mittwoch donnerstag freitag samstag sonntag"
    ),
    "fr": _words(
        "semaine année an mois week-end matin soir nuit saison fois "
        "lundi mardi mercredi jeudi vendredi samedi dimanche y faut"
    ),
    "es": _words(
        "semana año mes fin mañana tarde noche temporada vez "
        "lunes martes miércoles jueves viernes sábado domingo"
    ),
    "pt": _words(
        "semana ano mês fim manhã tarde noite temporada vez "
        "segunda-feira terça-feira quarta-feira quinta-feira sexta-feira sábado domingo"
    ),
    "it": _words(
        "settimana anno mese fine mattina sera notte stagione volta "
        "lunedì martedì mercoledì giovedì venerdì sabato domenica"
    ),
    "nl": _words(
        "week jaar maand weekend ochtend middag avond nacht seizoen keer "
        "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag"
    ),
}

# Page furniture at the start of a paragraph or sentence ("Lesen Sie auch", "Lire
# aussi"), and promotional phrases anywhere in a sentence.
NOISE_STARTS: dict[str, tuple[str, ...]] = {
    "de": ("anzeige", "werbung", "lesen sie auch", "mehr zum thema", "mehr dazu", "foto:"),
    "fr": ("publicité", "lire aussi", "à lire aussi", "lire la suite", "voir aussi", "photo :"),
    "es": ("publicidad", "lee también", "leer más", "ver también", "foto:"),
    "pt": ("publicidade", "leia também", "leia mais", "veja também", "foto:"),
    "it": ("pubblicità", "leggi anche", "leggi tutto", "vedi anche", "foto:"),
    "nl": ("advertentie", "lees ook", "lees meer", "bekijk ook", "foto:"),
}
PROMO_PHRASES: dict[str, tuple[str, ...]] = {
    "de": ("abonnieren sie", "jetzt abonnieren", "melden sie sich", "zum newsletter"),
    "fr": ("abonnez-vous", "inscrivez-vous", "téléchargez notre application"),
    "es": ("suscríbete", "suscríbase", "descarga nuestra app", "regístrate"),
    "pt": ("assine", "inscreva-se", "baixe o nosso aplicativo", "cadastre-se"),
    "it": ("abbonati", "iscriviti", "scarica la nostra app"),
    "nl": ("abonneer", "schrijf je in", "download onze app"),
}

# For the rewrite's support check (`story.brief.support`): words that say something is
# not so, the word that introduces a passive's agent, and number words.
NEGATIONS: dict[str, frozenset[str]] = {
    "de": _words("nicht kein keine keinen keinem keiner keines nie niemals niemand nichts weder"),
    "fr": _words("ne n' pas jamais aucun aucune rien ni sans guère"),
    "es": _words("no nunca jamás ningún ninguna ninguno nadie nada ni sin tampoco"),
    "pt": _words("não nunca jamais nenhum nenhuma ninguém nada nem sem"),
    "it": _words("non mai nessuno nessuna niente nulla né senza"),
    "nl": _words("niet geen nooit niemand niets noch zonder"),
}
PASSIVE_AGENT: dict[str, frozenset[str]] = {
    "de": _words("von vom durch"),
    "fr": _words("par"),
    "es": _words("por"),
    "pt": _words("por pelo pela pelos pelas"),
    "it": _words("da dal dalla dai dalle dagli"),
    "nl": _words("door"),
}
_NUMBERS = {
    "de": "eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf",
    "fr": "un deux trois quatre cinq six sept huit neuf dix onze douze",
    "es": "uno dos tres cuatro cinco seis siete ocho nueve diez once doce",
    "pt": "um dois três quatro cinco seis sete oito nove dez onze doze",
    "it": "uno due tre quattro cinque sei sette otto nove dieci undici dodici",
    "nl": "een twee drie vier vijf zes zeven acht negen tien elf twaalf",
}
# 1 to 12 (the article "un", "uno", "um", "een" counts as one: a number check only
# refuses a rewrite, so reading an article as "1" costs at most a refused rewrite).
NUMBER_WORDS: dict[str, dict[str, int]] = {
    lang: {w: n for n, w in enumerate(words.split(), start=1)} for lang, words in _NUMBERS.items()
}

# Languages written without spaces between words: a word count is a character count.
UNSPACED = frozenset({"zh", "ja", "th", "lo", "km", "my"})
